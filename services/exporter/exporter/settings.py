from pydantic import Field, SecretStr

from shared.settings import ServiceSettings


class ExporterSettings(ServiceSettings):
    service_name: str = "exporter"
    http_port: int = 8085
    routing_url: str = "http://127.0.0.1:8082"
    # A routing call that takes longer than this is a failed attempt (retried).
    routing_timeout_seconds: float = 30.0
    # Staff tokens are checked against routing's users (active, current role), answers kept this long.
    auth_cache_seconds: float = Field(5.0, ge=0, le=60)
    auth_timeout_seconds: float = 5.0
    routing_page_size: int = Field(500, ge=1, le=500, description="Timeline items per routing call")
    storage_dir: str = ".state/exports"
    # Where people reach this service (the links in e-mails); defaults to http://<host>:<port>.
    public_base_url: str | None = None
    # Signs download links; defaults to jwt_secret (with a salt of its own).
    download_link_secret: SecretStr | None = None
    download_link_days: float = 7.0
    # Messages rendered per WeasyPrint document: the bound on the renderer's memory.
    render_chunk_size: int = Field(400, ge=10)
    render_attempts: int = Field(3, ge=1)
    render_retry_initial_seconds: float = 2.0
    # A render holds its job this long and renews it every third of it; a job whose runner died
    # is taken again (redelivery or relay) once this has passed.
    render_lease_seconds: float = Field(300.0, ge=3)
    # Jobs whose event was not acknowledged by Kafka are published again after this long.
    outbox_retry_seconds: float = 10.0

    def public_url(self) -> str:
        return (self.public_base_url or f"http://{self.http_host}:{self.http_port}").rstrip("/")

    def link_secret(self) -> str:
        return (self.download_link_secret or self.jwt_secret).get_secret_value()
