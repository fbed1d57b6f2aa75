from pydantic import AnyHttpUrl

from shared.settings import ServiceSettings


class IngestSettings(ServiceSettings):
    service_name: str = "ingest"
    http_port: int = 8081
    # Behind a proxy or load balancer the URL Twilio signed is the public one, not ours.
    public_base_url: AnyHttpUrl | None = None
    max_webhook_bytes: int = 64 * 1024
    # Carrier credentials are cached this long per process: an admin's change reaches the other
    # replicas within it (the replica that took the change forgets its entry at once).
    credentials_cache_seconds: float = 30.0
    # A Telnyx webhook signed longer ago than this (or this far in the future) is a replay.
    telnyx_timestamp_tolerance_seconds: float = 300.0
    # DMS events over HTTP: events per request, and bytes per request.
    dms_max_batch: int = 500
    dms_max_body_bytes: int = 5 * 1024 * 1024
    # Admins' carrier-credential API: staff tokens are checked against routing's users (still
    # active, current role): GET {routing_url}/api/v1/users/{id}, the answer kept auth_cache_seconds.
    routing_url: str = "http://127.0.0.1:8082"
    auth_cache_seconds: float = 5.0
    auth_timeout_seconds: float = 5.0
