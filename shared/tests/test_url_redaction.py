"""Tokens in query strings never reach the recorded spans."""

import httpx
from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry

from shared.http.observability import RequestMetrics
from shared.http.redaction import masked_url


def test_masked_url_keeps_harmless_parameters():
    url = "http://x/api/v1/exports/1/download?token=abc.def&lang=fr"
    assert masked_url(url) == "http://x/api/v1/exports/1/download?token=REDACTED&lang=fr"
    assert masked_url("http://x/a") == "http://x/a"


async def test_a_stream_token_in_the_query_is_not_in_the_trace():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = FastAPI()

    @app.get("/api/v1/notifications/stream")
    async def stream() -> dict:
        return {}

    app.add_middleware(RequestMetrics, registry=CollectorRegistry(), tracer_provider=provider)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://notifier") as client:
        response = await client.get("/api/v1/notifications/stream", params={"access_token": "eyJ.secret.jwt"})
    assert response.status_code == 200

    spans = exporter.get_finished_spans()
    assert spans
    recorded = " ".join(str(value) for span in spans for value in (span.attributes or {}).values())
    assert "eyJ.secret.jwt" not in recorded
    assert "REDACTED" in recorded
