"""Plumbing shared by every Switchboard service: event contracts, settings, Kafka, database,
HTTP conventions and telemetry. Business rules of one service never live here."""
