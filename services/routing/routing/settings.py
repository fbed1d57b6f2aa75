from pydantic import Field

from shared.settings import ServiceSettings


class RoutingSettings(ServiceSettings):
    service_name: str = "routing"
    http_port: int = 8082
    default_phone_region: str = "US"
    outbox_batch_size: int = 500
    outbox_idle_poll_seconds: float = 0.2
    # After a commit wakes the relay, it waits this long so the next commits' events leave in the
    # same relay transaction (fewer transactions per text at the inbound rate; a text's event is
    # this much later on Kafka).
    outbox_gather_seconds: float = Field(0.01, ge=0)
    # Auto-close sweeper: how often every replica looks for inactive conversations, and how many
    # it closes per transaction.
    auto_close_interval_seconds: float = Field(60.0, gt=0)
    auto_close_batch_size: int = Field(500, ge=1)
    # How often every replica settles the inbox counters (conversations/counters.py).
    counters_settle_interval_seconds: float = Field(10.0, gt=0)
    # Where the web inbox is served: invitation and password-reset links open pages there.
    app_base_url: str = "http://127.0.0.1:8080"
    invitation_ttl_hours: float = Field(24 * 7, gt=0)
    password_reset_ttl_minutes: float = Field(60, gt=0)
    # Reset e-mails a person may be sent per hour (more requests are answered the same, silently).
    password_resets_per_hour: int = Field(3, ge=1)
    # Sign-in throttling (routing/auth/throttle.py): failures free per e-mail and address before
    # the waits start doubling; failures per e-mail (every address) and per address (every
    # e-mail) that stop sign-ins until the window ends.
    login_free_failures: int = Field(5, ge=1)
    login_account_ceiling: int = Field(50, ge=1)
    login_address_ceiling: int = Field(100, ge=1)
    login_window_seconds: float = Field(900.0, gt=0)
    # The services that count a dealership's usage (operator API, GET /platform/v1/dealerships/{id}):
    # ingest (texts in), notifier (texts out, segments, undelivered), exporter (exports).
    ingest_url: str = "http://127.0.0.1:8081"
    notifier_url: str = "http://127.0.0.1:8083"
    exporter_url: str = "http://127.0.0.1:8085"
    usage_timeout_seconds: float = Field(3.0, gt=0)
