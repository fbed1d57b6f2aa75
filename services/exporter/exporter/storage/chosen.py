"""The store the settings choose (STORAGE_BACKEND)."""

from pathlib import Path

from exporter.settings import ExporterSettings
from exporter.storage import PdfStore
from exporter.storage.local import LocalPdfStore
from exporter.storage.s3 import S3PdfStore


def pdf_store_for(settings: ExporterSettings) -> PdfStore:
    if settings.storage_backend == "s3":
        assert settings.s3_bucket is not None  # the settings refuse s3 without a bucket
        return S3PdfStore(
            bucket=settings.s3_bucket,
            key_prefix=settings.s3_key_prefix,
            endpoint_url=settings.s3_endpoint_url or None,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
        )
    return LocalPdfStore(Path(settings.storage_dir))
