"""STORAGE_BACKEND=s3 against a real S3-compatible HTTP server (moto's): an export lands in the
bucket under its prefix, the signed link streams those very bytes through exporter, and the link
is refused as with local files (403 altered, 410 expired). Large files go up in parts."""

import io
import os
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import httpx
import pytest
from pydantic import ValidationError
from pypdf import PdfReader

from exporter.app import create_app
from exporter.settings import ExporterSettings
from exporter.storage.s3 import S3PdfStore
from exporter.usecases.events import requested_event
from exporter.usecases.run_export import ExportRunner


async def test_an_s3_export_is_stored_in_the_bucket_and_its_link_streams_it(
    queued_job,
    sessions,
    events,
    links,
    routing,
    render_policy,
    dealer,
    directory,
    s3_settings,
    s3_store,
    s3_client,
    make_exports_app,
):
    _, routing_client = routing
    job = await queued_job(text="Brakes squeak again")
    runner = ExportRunner(sessions, routing_client, s3_store, links, events, render_policy)
    await runner.handle(requested_event(job))

    key = f"switchboard/exports/{job.id}.pdf"
    listed = await s3_client.list_objects_v2(Bucket=s3_settings.s3_bucket, Prefix="switchboard/exports/")
    assert key in [item["Key"] for item in listed.get("Contents", [])]
    stored = await s3_client.get_object(Bucket=s3_settings.s3_bucket, Key=key)
    assert stored["ContentType"] == "application/pdf"
    in_bucket = await stored["Body"].read()

    exports_api = make_exports_app(directory, store=s3_store)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=exports_api), base_url="http://x") as http:
        status = (await http.get(f"/api/v1/exports/{job.id}", headers=dealer.sam)).json()
        assert status["status"] == "done"
        link = status["download_url"].removeprefix("https://exports.example.test")
        download = await http.get(link)
        assert download.status_code == 200 and download.headers["content-type"] == "application/pdf"
        assert download.content == in_bucket
        assert download.headers["content-length"] == str(len(in_bucket))
        assert "attachment" in download.headers["content-disposition"]
        assert "Brakes squeak again #2" in PdfReader(io.BytesIO(download.content)).pages[0].extract_text()

        token = link.split("token=")[1]
        tampered = token[:-3] + ("abc" if not token.endswith("abc") else "xyz")
        refused = await http.get(f"/api/v1/exports/{job.id}/download", params={"token": tampered})
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "invalid_link"

    week_later = {"clock": lambda: datetime.now(UTC) + timedelta(days=7, minutes=1)}
    later = make_exports_app(directory, store=s3_store, router_options=week_later)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=later), base_url="http://x") as http:
        expired = await http.get(link)
        assert expired.status_code == 410 and expired.json()["error"]["code"] == "link_expired"


async def test_a_large_pdf_is_uploaded_in_parts_and_read_back_whole(s3_settings, tmp_path, read_stored):
    store = S3PdfStore(
        bucket=s3_settings.s3_bucket,
        key_prefix="parts/",
        endpoint_url=s3_settings.s3_endpoint_url,
        region=s3_settings.s3_region,
        access_key_id=s3_settings.s3_access_key_id,
        secret_access_key=s3_settings.s3_secret_access_key,
        part_bytes=5 * 1024 * 1024,  # S3's smallest part
    )
    await store.start()
    try:
        content = b"%PDF-1.7\n" + os.urandom(12 * 1024 * 1024)  # three parts
        source = tmp_path / "big.pdf"
        source.write_bytes(content)
        job_id = uuid4()
        key = await store.put(job_id, source)
        assert key == f"parts/{job_id}.pdf"
        assert await read_stored(store, key) == content
        opened = await store.open(key)
        assert opened is not None and opened.size == len(content)
        await opened.close()

        await store.delete(key)
        assert await store.open(key) is None
        await store.delete(key)  # already gone: not an error
    finally:
        await store.close()


def test_s3_settings_must_name_a_bucket_and_both_keys_or_none():
    with pytest.raises(ValidationError, match="S3_BUCKET"):
        ExporterSettings(storage_backend="s3")
    with pytest.raises(ValidationError, match="S3_SECRET_ACCESS_KEY"):
        ExporterSettings(storage_backend="s3", s3_bucket="exports", s3_access_key_id="id-only")
    app = create_app(ExporterSettings(storage_backend="s3", s3_bucket="exports", s3_region="eu-west-1"))
    assert app.title == "Switchboard exporter", "wired without reaching S3 (it connects at startup)"
