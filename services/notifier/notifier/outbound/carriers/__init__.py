"""Carrier adapters: one small interface, one implementation per carrier API."""
