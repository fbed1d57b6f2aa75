"""HTTP conventions shared by the services: error format, auth, health, metrics."""
