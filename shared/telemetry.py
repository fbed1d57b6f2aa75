"""Tracing (OpenTelemetry) and structured logs that carry the trace id."""

import logging
import sys

import structlog
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased

from shared.settings import HttpProcessSettings


def setup_tracing(settings: HttpProcessSettings) -> TracerProvider:
    """A real SDK provider always (trace ids exist and propagate); exporting is optional.

    With no exporter nothing would ever read a span, so spans are not recorded at all: trace and
    span ids are still made and propagated (logs carry them), but every HTTP request and Kafka
    message no longer pays for building span objects and their attributes."""
    sampler = ParentBased(ALWAYS_OFF) if settings.otel_exporter == "none" else None
    provider = TracerProvider(
        resource=Resource.create({"service.name": settings.service_name}), sampler=sampler
    )
    if settings.otel_exporter == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter(out=sys.stderr)))
    elif settings.otel_exporter == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = (
            OTLPSpanExporter(endpoint=settings.otel_endpoint)
            if settings.otel_endpoint
            else OTLPSpanExporter()
        )
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider


def _add_trace_context(_logger: object, _name: str, event: dict) -> dict:
    span = trace.get_current_span().get_span_context()
    if span.is_valid:
        event["trace_id"] = format(span.trace_id, "032x")
        event["span_id"] = format(span.span_id, "016x")
    return event


_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "warn": logging.WARNING,
    "error": logging.ERROR,
    "exception": logging.ERROR,
    "critical": logging.CRITICAL,
    "fatal": logging.CRITICAL,
}


class LevelGatedLogger(structlog.stdlib.BoundLogger):
    """structlog's stdlib logger, except that a line at a level its stdlib logger has off costs one
    `isEnabledFor` (cached by logging) instead of the whole processor chain: structlog builds the
    event dict, merges the context and only then drops it in `filter_by_level`, ~3 µs a call. Per
    request or per message that added up (ingest's per-webhook info lines with INFO off, issue 17),
    so every service's `log.info(...)` on a hot path is cheap when INFO is off, without a guard at
    each call."""

    def _proxy_to_logger(self, method_name: str, event: str | None = None, *event_args, **event_kw):
        if not self._logger.isEnabledFor(_LEVELS.get(method_name, logging.NOTSET)):
            return None
        return super()._proxy_to_logger(method_name, event, *event_args, **event_kw)


def setup_logging(settings: HttpProcessSettings) -> None:
    """Every log line, ours and the libraries', is one JSON object with service and trace id."""
    shared_processors = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_trace_context,
        lambda _l, _n, event: {**event, "service": settings.service_name},
    ]
    renderer = (
        structlog.processors.JSONRenderer()
        if settings.log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared_processors,
            structlog.processors.format_exc_info,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=LevelGatedLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared_processors,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "faststream", "aiokafka"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
