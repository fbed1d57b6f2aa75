"""A stand-in for the carriers in development and tests (not a service)."""
