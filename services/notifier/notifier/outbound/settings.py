"""Outbound sending's settings, mixed into NotifierSettings (every field is an environment variable)."""

from pydantic import Field
from pydantic_settings import BaseSettings


class OutboundSettings(BaseSettings):
    # Production talks to the carriers; `make run` and the tests point these at the simulator.
    twilio_api_base_url: str = "https://api.twilio.com"
    telnyx_api_base_url: str = "https://api.telnyx.com"
    # Where carriers post delivery receipts: ingest's public address.
    carrier_callback_base_url: str = "http://127.0.0.1:8081"
    carrier_timeout_seconds: float = 10.0
    carrier_credentials_cache_seconds: float = 30.0

    # Consumers of sms.outbound_requested.v1 per replica, each owning some partitions (so some
    # sending numbers): a number waiting for its rate limit only holds up its own partition.
    outbound_consumers: int = Field(default=3, ge=1)

    outbound_retry_attempts: int = Field(default=5, ge=1)
    # A carrier refusing for a while (429, 5xx, unreachable) is waited out this long before a
    # text is failed, whatever the attempts: a staff reply arrives late rather than not at all.
    # Under Kafka's max.poll.interval (300 s), past which the sending consumer would be taken
    # out of its group while it waits.
    outbound_retry_seconds: float = Field(default=240.0, ge=0, lt=300)
    outbound_retry_initial_seconds: float = 0.5
    outbound_retry_max_seconds: float = 20.0

    # Per sending number; RATE_PER_NUMBER overrides it for one number.
    outbound_rate_limits_enabled: bool = True
    rate_long_code_per_second: float = Field(default=1.0, gt=0)
    rate_toll_free_per_second: float = Field(default=3.0, gt=0)
    # Per number, e.g. RATE_PER_NUMBER='{"+15145550100": 10}' for a number the carrier allows more.
    rate_per_number: dict[str, float] = Field(default_factory=dict)

    # Automated texts reach a customer only between these local hours [start, end).
    quiet_hours_start: int = Field(default=8, ge=0, le=23)
    quiet_hours_end: int = Field(default=21, ge=1, le=24)
    outbound_release_interval_seconds: float = 10.0
    outbound_release_batch: int = 100
    # A sender's hold on one message, renewed before each attempt at the carrier (so it needs to
    # cover one attempt: the rate-limit wait, the HTTP timeout, a backoff). A message left
    # `sending` longer than this by a replica that died is picked up again.
    outbound_send_lease_seconds: float = 300.0
