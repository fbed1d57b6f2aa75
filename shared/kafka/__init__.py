"""Kafka plumbing: the broker, topic creation, publishing with a deadline, resilient consumers."""
