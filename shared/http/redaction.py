"""Credentials that travel in URLs (the SSE stream's `access_token`, a download link's `token`)
must not reach traces: the request span (shared/http/observability.py) records the query string
through `masked_query`."""

from urllib.parse import parse_qsl, urlencode

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
