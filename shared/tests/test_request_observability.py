"""RequestMetrics (shared/http/observability.py): one server span per request that continues the
caller's trace, named by route, marked failed on a 5xx or an exception; nothing recorded when
spans are not sampled (no exporter); Prometheus counts and latencies per route and status."""

import httpx
import pytest
from fastapi import FastAPI, HTTPException
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased
from opentelemetry.trace import SpanKind, StatusCode
from prometheus_client import CollectorRegistry

from shared.http.observability import RequestMetrics

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


def _app(provider: TracerProvider, registry: CollectorRegistry, seen: list) -> FastAPI:
    app = FastAPI()

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict:
        seen.append(trace.get_current_span().get_span_context())
        if item_id == 0:
            raise HTTPException(503, "down")
        if item_id == 1:
            raise RuntimeError("bug")
        return {"id": item_id}

    @app.get("/healthz")
    async def healthz() -> dict:
        return {}

    app.add_middleware(RequestMetrics, registry=registry, tracer_provider=provider)
    return app


def _recording() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


async def test_one_server_span_per_request_continues_the_callers_trace():
    provider, exporter = _recording()
    registry, seen = CollectorRegistry(), []
    transport = httpx.ASGITransport(app=_app(provider, registry, seen))
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        assert (await client.get("/items/7", headers={"traceparent": PARENT})).status_code == 200
        assert (await client.get("/items/0")).status_code == 503
        assert (await client.get("/healthz")).status_code == 200
        with pytest.raises(RuntimeError):
            await client.get("/items/1")

    spans = exporter.get_finished_spans()
    assert [span.name for span in spans] == ["GET /items/{item_id}"] * 3  # none for /healthz
    first, unavailable, failed = spans
    assert first.kind == SpanKind.SERVER
    assert format(first.context.trace_id, "032x") == TRACE_ID
    assert format(first.parent.span_id, "016x") == "00f067aa0ba902b7"
    assert first.attributes["http.route"] == "/items/{item_id}"
    assert first.attributes["http.response.status_code"] == 200
    assert first.attributes["url.path"] == "/items/7"
    # The handler ran inside the span: its logs and Kafka records carry this trace.
    assert seen[0].trace_id == first.context.trace_id
    assert unavailable.status.status_code == StatusCode.ERROR
    assert failed.status.status_code == StatusCode.ERROR
    assert any(event.name == "exception" for event in failed.events)

    def count(route: str, status: str) -> float | None:
        return registry.get_sample_value(
            "http_requests_total", {"method": "GET", "route": route, "status": status}
        )

    assert count("/items/{item_id}", "200") == 1
    assert count("/items/{item_id}", "503") == 1
    assert count("/items/{item_id}", "500") == 1
    assert count("/healthz", "200") == 1
    assert (
        registry.get_sample_value(
            "http_request_duration_seconds_count", {"method": "GET", "route": "/items/{item_id}"}
        )
        == 3
    )


async def test_without_an_exporter_nothing_is_recorded_but_the_trace_id_still_propagates():
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ParentBased(ALWAYS_OFF))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    seen: list = []
    transport = httpx.ASGITransport(app=_app(provider, CollectorRegistry(), seen))
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        await client.get("/items/7", headers={"traceparent": PARENT.replace("-01", "-00")})
        await client.get("/items/8")
    assert exporter.get_finished_spans() == ()
    assert format(seen[0].trace_id, "032x") == TRACE_ID
    assert seen[1].is_valid and seen[1].trace_id != seen[0].trace_id


async def test_a_request_without_a_caller_trace_starts_its_own_whatever_the_serving_task_carries():
    provider, exporter = _recording()
    # An unsampled span left attached in the serving task's context (by other code) would make
    # every request a child of it, and so never recorded.
    ambient = trace.NonRecordingSpan(
        trace.SpanContext(
            int(TRACE_ID, 16), 0x00F067AA0BA902B7, is_remote=True, trace_flags=trace.TraceFlags(0)
        )
    )
    token = otel_context.attach(trace.set_span_in_context(ambient))
    try:
        transport = httpx.ASGITransport(app=_app(provider, CollectorRegistry(), []))
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            assert (await client.get("/items/7")).status_code == 200
    finally:
        otel_context.detach(token)
    [span] = exporter.get_finished_spans()
    assert span.parent is None and format(span.context.trace_id, "032x") != TRACE_ID
