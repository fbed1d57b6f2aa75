"""Credentials that travel in URLs (the SSE stream's `access_token`, a download link's `token`)
must not reach traces: the HTTP instrumentation records the full URL, and only masks a few cloud
providers' parameter names by itself."""

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

from opentelemetry.trace import Span

SENSITIVE_QUERY_PARAMETERS = frozenset({"access_token", "token", "signature", "secret", "key"})
MASK = "REDACTED"


def masked_query(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode(
        [(name, MASK if name.lower() in SENSITIVE_QUERY_PARAMETERS else value) for name, value in pairs]
    )


def masked_url(url: str) -> str:
    base, separator, query = url.partition("?")
    return f"{base}?{masked_query(query)}" if separator else url


def redact_request_span(span: Span, scope: Mapping[str, Any]) -> None:
    """`server_request_hook` for the ASGI instrumentation: rewrite what it recorded."""
    raw = scope.get("query_string") or b""
    query = raw.decode("latin-1") if isinstance(raw, bytes) else str(raw)
    if not query or not span.is_recording():
        return
    attributes = getattr(span, "attributes", None) or {}
    for name in ("http.url", "url.full"):
        if name in attributes:
            span.set_attribute(name, masked_url(str(attributes[name])))
    if "url.query" in attributes:
        span.set_attribute("url.query", masked_query(query))
    if "http.target" in attributes and "?" in str(attributes["http.target"]):
        span.set_attribute("http.target", masked_url(str(attributes["http.target"])))
