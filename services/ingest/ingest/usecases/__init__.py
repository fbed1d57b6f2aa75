"""ingest's use cases: verify, deduplicate, publish; success only once Kafka acknowledged."""
