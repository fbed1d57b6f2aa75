"""`/healthz`, `/readyz` and `/metrics`, and request metrics and traces."""

import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, StatusCode, TracerProvider
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.http.redaction import masked_query

ReadinessCheck = Callable[[], Awaitable[None]]


def observability_router(
    service_name: str, registry: CollectorRegistry, checks: dict[str, ReadinessCheck]
) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="The process is alive")
    async def healthz() -> dict:
        return {"status": "ok"}

    @router.get("/readyz", summary="Kafka and the database answer")
    async def readyz() -> JSONResponse:
        results: dict[str, str] = {}
        for name, check in checks.items():
            try:
                await check()
                results[name] = "ok"
            except Exception as exc:
                results[name] = f"failing: {type(exc).__name__}"
        ready = all(value == "ok" for value in results.values())
        # The name lets a launcher tell its own process from another one answering on the port.
        return JSONResponse(
            {"service": service_name, "ready": ready, "checks": results},
            status_code=200 if ready else 503,
        )

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router


class RequestMetrics:
    """Pure ASGI middleware (streams such as SSE pass through untouched): request count and
    latency per route for Prometheus and, given a tracer provider, one server span per request
    that continues the caller's trace (W3C `traceparent`), so logs and the Kafka records a request
    publishes carry its trace id.

    Cheap by design, since every request pays for it: one wrapper around `send` for both, the
    metric children cached per (method, route, status) instead of `labels()` each time, the
    incoming trace context looked for only in the headers that can carry it, and a span's
    attributes built only when the span is recorded (sampled with an exporter; without one,
    spans are not recorded at all, see shared/telemetry.py). Query strings are masked
    (shared/http/redaction.py) before they reach a span. OpenTelemetry's ASGI instrumentation
    did the same work with five spans per request (the server span, one per receive and per
    send) and matched the route a second time: about a third of a bare request's cost."""

    def __init__(
        self,
        app: ASGIApp,
        registry: CollectorRegistry,
        tracer_provider: TracerProvider | None = None,
        untraced_paths: Iterable[str] = ("/healthz", "/readyz", "/metrics"),
    ) -> None:
        self.app = app
        self.requests = Counter(
            "http_requests_total", "HTTP requests", ["method", "route", "status"], registry=registry
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=registry,
        )
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self.tracer = tracer_provider.get_tracer("switchboard.http") if tracer_provider else None
        self.untraced = frozenset(untraced_paths)

    def _observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = (
                self.requests.labels(method, route, str(status)),
                self.latency.labels(method, route),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        span = None
        if self.tracer is not None and scope["path"] not in self.untraced:
            span, token = self._start_span(scope)
        try:
            await self.app(scope, receive, send_with_status)
        except BaseException as exc:
            if span is not None and span.is_recording():
                span.record_exception(exc)
            raise
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self._observe(scope["method"], route, status, time.perf_counter() - started)
            if span is not None:
                if span.is_recording():
                    span.update_name(f"{scope['method']} {route}")
                    span.set_attribute("http.route", route)
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(StatusCode.ERROR)
                span.end()
                otel_context.detach(token)

    def _start_span(self, scope: Scope) -> tuple[Span, object]:
        carrier = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope["headers"]
            if name in _TRACE_HEADERS
        }
        # A request's trace is the caller's or a new one, never whatever context the serving
        # task happens to carry (an ambient, unsampled span would silence every request's span).
        parent = propagate.extract(carrier, context=Context()) if carrier else Context()
        span = self.tracer.start_span(scope["method"], context=parent, kind=SpanKind.SERVER)
        if span.is_recording():
            span.set_attributes(_request_attributes(scope))
        return span, otel_context.attach(trace.set_span_in_context(span, parent))


# What may carry a caller's trace context (W3C Trace Context and Baggage).
_TRACE_HEADERS = frozenset({b"traceparent", b"tracestate", b"baggage"})


def _request_attributes(scope: Scope) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "http.request.method": scope["method"],
        "url.scheme": scope.get("scheme", "http"),
        "url.path": scope["path"],
        "network.protocol.version": scope.get("http_version", ""),
    }
    query = scope.get("query_string") or b""
    if query:
        attributes["url.query"] = masked_query(query.decode("latin-1"))
    server = scope.get("server")
    if server:
        attributes["server.address"] = str(server[0])
        if server[1] is not None:
            attributes["server.port"] = server[1]
    client = scope.get("client")
    if client:
        attributes["client.address"] = str(client[0])
    for name, value in scope["headers"]:
        if name == b"user-agent":
            attributes["user_agent.original"] = value.decode("latin-1")
    return attributes
