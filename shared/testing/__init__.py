"""Test plumbing shared by every service's suite: the real PostgreSQL and Kafka that `make test`
starts (or that DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS name), and a throwaway database per
test session."""
