from typing import Literal

from pydantic import Field, SecretStr

from notifier.outbound.settings import OutboundSettings
from shared.settings import ServiceSettings


class NotifierSettings(OutboundSettings, ServiceSettings):
    service_name: str = "notifier"
    http_port: int = 8083
    sse_ping_seconds: int = 15
    # Open live streams re-check their user this often (a deactivated user's stream is closed).
    stream_user_check_seconds: float = Field(60.0, gt=0)
    # Postgres channel on which stored notifications are announced to every replica's streams.
    live_channel: str = "switchboard_notifications"
    # The account-wide live feed (/api/v1/live): how long a page can be away and still resume
    # from its Last-Event-ID (older: it is told to reload), and how often each replica tries to
    # prune (one at a time, in batches).
    live_retention_hours: float = Field(24.0, gt=0)
    live_prune_seconds: float = Field(300.0, gt=0)
    live_prune_batch: int = Field(5000, gt=0)
    # Where the live feed's consumers start the first time: it is live, not history.
    live_consumer_offset_reset: Literal["earliest", "latest"] = "latest"
    # At most one "is typing" signal per person and conversation this often.
    typing_every_seconds: float = Field(2.0, ge=0)

    # Where staff e-mail addresses come from (GET /api/v1/users/{id} with a service token).
    routing_url: str = "http://127.0.0.1:8082"
    user_cache_seconds: float = 60.0
    # Links in e-mails point at the staff inbox.
    app_base_url: str = "http://127.0.0.1:8082"

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = 10.0
    email_from: str = Field("Switchboard <notifications@switchboard.test>", description="From: header")
    email_poll_seconds: float = 1.0
    email_batch_size: int = 20
    email_max_attempts: int = 8
    email_retry_base_seconds: float = 5.0
    email_retry_max_seconds: float = 600.0
