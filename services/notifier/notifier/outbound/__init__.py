"""Outbound SMS: carrier adapters, per-number rate limits, retries, quiet hours."""
