"""The settings every process has; each service subclasses one of these with its own fields."""

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.production import PRODUCTION, refuse, signing_secret_problems


class HttpProcessSettings(BaseSettings):
    """What every process that serves HTTP has, the web inbox included (it has no database and
    no broker of its own)."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    service_name: str = "switchboard"
    environment: str = "local"

    http_host: str = "127.0.0.1"
    http_port: int = 8080

    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "json"
    otel_exporter: Literal["none", "console", "otlp"] = "none"
    otel_endpoint: str | None = Field(default=None, description="OTLP/HTTP traces endpoint")

    shutdown_grace_seconds: float = 15.0
    # How long an idle keep-alive connection stays open. Longer than any of our clients keeps an
    # idle connection (httpx 5 s, web's pool 30 s): a client must never send a request on a
    # connection the server is closing at that moment — a POST is not retried, and the caller
    # would see "could not be reached". Uvicorn's own default is 5 s.
    http_keep_alive_seconds: int = 75
    # Clients reach this process over HTTPS only (a TLS proxy in front): answers carry
    # Strict-Transport-Security. Off for plain-HTTP local runs.
    strict_transport_security: bool = False

    @model_validator(mode="after")
    def _safe_for_production(self) -> "HttpProcessSettings":
        """In production a development or demo secret stops the process before it serves."""
        if self.environment == PRODUCTION:
            fields = type(self).model_fields
            refuse(signing_secret_problems({n: (getattr(self, n), f.default) for n, f in fields.items()}))
        return self


class ServiceSettings(HttpProcessSettings):
    """A service with its own PostgreSQL schema and Kafka consumers."""

    database_url: str = "postgresql+asyncpg://switchboard:switchboard@127.0.0.1:55432/switchboard"
    database_pool_size: int = 10
    # A pooled connection idle longer than this is pinged before use (see shared/db/engine.py).
    database_ping_after_idle_seconds: float = 10.0
    # PostgreSQL settings every connection of this service starts with (planner costs and the
    # like), instead of a SET round trip per transaction.
    database_session_settings: dict[str, str] = {}

    kafka_bootstrap_servers: str = "localhost:9092"
    # Lets several environments (or parallel test runs) share one cluster.
    kafka_topic_prefix: str = ""
    kafka_partitions: int = 3
    kafka_replication_factor: int = 1
    kafka_publish_timeout_seconds: float = 5.0
    # How long a consumer retries a failing handler before dead-lettering the message.
    kafka_handler_retry_seconds: float = 30.0
    # How often a consumer commits the offsets of the messages it has handled (0: after each).
    # Longer means fewer broker round trips and more messages handled again, idempotently,
    # after a crash or a rebalance.
    kafka_commit_interval_seconds: float = 1.0
    # How long the broker holds a consumer's fetch when its partitions have nothing new. Longer
    # saves idle CPU (every consumer group long-polls on its own; notifier has ~30: 500 -> 2000 ms
    # took its idle use from ~30 to ~18 ms a second), but aiokafka sends no new fetch to a broker
    # while one is in flight: a partition whose buffered records were just handled waits for the
    # other partitions' long poll to end before its next records are fetched, up to this long.
    kafka_fetch_max_wait_ms: int = 500
    # A batch consumer (shared/kafka/consumer.py: subscribe_batch) waits this long after the first
    # records of a batch for the ones right behind them: fewer, larger transactions at the
    # inbound rate, each text that much later.
    kafka_batch_gather_ms: float = 15.0
    # ... and while the last second's rate brings more records within this long, it waits for
    # them until the batch holds KAFKA_BATCH_TARGET_RECORDS or this long has passed since its first
    # (shared/kafka/consumer.py: BatchGathering). 0: only the wait above. At 100 texts/s, 50 ms
    # left routing + notifier at 2.8 ms of CPU a text, 100 ms at 2.1 (load 3-6); a text crosses
    # two such consumers on its way to an open page, so up to twice this later.
    kafka_batch_gather_max_ms: float = 100.0
    kafka_batch_target_records: int = 32

    jwt_secret: SecretStr = SecretStr("dev-only-secret-change-me-in-production-0123456789")
    jwt_issuer: str = "switchboard"
    jwt_ttl_minutes: int = 12 * 60

    # Platform operators' tokens (OPERATOR_TOKENS, from a Secret): `name=token` or
    # `name=sha256:<hex>` entries, comma-separated; see shared/http/operator_auth.py. Empty: the
    # platform endpoints refuse everyone.
    operator_tokens: SecretStr = SecretStr("")
