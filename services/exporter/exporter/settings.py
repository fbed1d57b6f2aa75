from typing import Literal

from pydantic import Field, SecretStr, model_validator

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
    # Where finished PDFs are kept: a local folder (every replica must see the same one) or an
    # S3-compatible bucket. Either way people download through the signed link, never the store.
    storage_backend: Literal["local", "s3"] = "local"
    storage_dir: str = ".state/exports"
    s3_bucket: str | None = None
    # For MinIO and other S3-compatible stores (reached by path); empty for AWS S3.
    s3_endpoint_url: str = ""
    s3_region: str | None = None
    # Unset: botocore's usual chain (AWS_* variables, web identity, instance role).
    s3_access_key_id: SecretStr | None = None
    s3_secret_access_key: SecretStr | None = None
    # Prepended to every object key, e.g. "exports/" to share a bucket.
    s3_key_prefix: str = ""
    # Where people reach this service (the links in e-mails); defaults to http://<host>:<port>.
    public_base_url: str | None = None
    # Signs download links; defaults to jwt_secret (with a salt of its own).
    download_link_secret: SecretStr | None = None
    download_link_days: float = 7.0
    # PDFs are deleted this long after their link expired (the job stays, shown `expired`), by a
    # sweep every `expired_file_sweep_seconds` on each replica (rows taken with SKIP LOCKED).
    expired_file_grace_hours: float = Field(24.0, ge=0)
    expired_file_sweep_seconds: float = Field(3600.0, gt=0)
    # Messages rendered per WeasyPrint document: the bound on the renderer's memory.
    render_chunk_size: int = Field(400, ge=10)
    render_attempts: int = Field(3, ge=1)
    render_retry_initial_seconds: float = 2.0
    # A render holds its job this long and renews it every third of it; a job whose runner died
    # is taken again (redelivery or relay) once this has passed.
    render_lease_seconds: float = Field(300.0, ge=3)
    # Jobs whose event was not acknowledged by Kafka are published again after this long.
    outbox_retry_seconds: float = 10.0

    @model_validator(mode="after")
    def _s3_complete(self) -> "ExporterSettings":
        if self.storage_backend == "s3" and not self.s3_bucket:
            raise ValueError("STORAGE_BACKEND=s3 needs S3_BUCKET")
        if (self.s3_access_key_id is None) != (self.s3_secret_access_key is None):
            raise ValueError("set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or neither")
        return self

    def public_url(self) -> str:
        return (self.public_base_url or f"http://{self.http_host}:{self.http_port}").rstrip("/")

    def link_secret(self) -> str:
        return (self.download_link_secret or self.jwt_secret).get_secret_value()
