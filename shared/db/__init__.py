"""Database plumbing: engines, sessions, per-service migrations, consumer idempotency."""
