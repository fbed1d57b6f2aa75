"""ingest: the carrier and DMS edge. Verifies, deduplicates and hands inputs to Kafka."""
