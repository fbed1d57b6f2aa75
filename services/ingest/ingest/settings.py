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
    # A rotated DMS secret keeps working this long beside the new one (an admin may ask for
    # less, down to 0, or more, up to a week); "last used" is written at most this often.
    dms_secret_overlap_hours: float = 24.0
    dms_last_used_every_seconds: float = 60.0
    # Admins' carrier-credential API: staff tokens are checked against routing's users (still
    # active, current role): GET {routing_url}/api/v1/users/{id}, the answer kept auth_cache_seconds.
    routing_url: str = "http://127.0.0.1:8082"
    auth_cache_seconds: float = 5.0
    auth_timeout_seconds: float = 5.0

    # Catch-up from the carriers' APIs (Twilio does not retry a failed SMS webhook, Telnyx only
    # for seconds): every number is listed this often, and once at start-up.
    catch_up_enabled: bool = True
    catch_up_interval_seconds: float = 60.0
    # Each listing starts this long before the checkpoint: a text the carrier stamped a little
    # before we listed (clock skew, its own queue) is listed again and dropped by the dedupe.
    catch_up_overlap_seconds: float = 300.0
    # A number never listed before is listed this far back (a new number, a fresh install).
    catch_up_initial_lookback_seconds: float = 3600.0
    # How long a replica holds a number it lists; past it another replica may take it.
    catch_up_lease_seconds: float = 120.0
    # After a 429, a 5xx or no answer: the next attempt waits this long, doubling to the max.
    catch_up_backoff_initial_seconds: float = 30.0
    catch_up_backoff_max_seconds: float = 900.0
    # Pages per listing and numbers per cycle and replica, so one cycle stays bounded.
    catch_up_page_size: int = 200
    catch_up_numbers_per_cycle: int = 50
    # An outbound text without a final status this long after it was sent has its status
    # fetched; then again with back-off, until it is final or too old to matter.
    outbound_status_after_seconds: float = 600.0
    outbound_status_give_up_seconds: float = 3 * 24 * 3600.0
    # The carriers' REST APIs (tests and `make run` point them at the simulator).
    twilio_api_base_url: str = "https://api.twilio.com"
    telnyx_api_base_url: str = "https://api.telnyx.com"
    carrier_timeout_seconds: float = 10.0
