"""The URL a Twilio signature is checked against is the one Starlette reconstructs for the request,
whatever the scope holds (remembered per distinct scope fields, so built once per webhook URL)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.requests import Request

from ingest.api.twilio import _request_url

SCOPES = [
    {
        "scheme": "https",
        "server": ("10.0.0.5", 443),
        "path": "/webhooks/twilio/sms",
        "host": b"ingest.example",
    },
    {
        "scheme": "http",
        "server": ("127.0.0.1", 8081),
        "path": "/webhooks/twilio/sms",
        "host": b"127.0.0.1:8081",
    },
    {"scheme": "http", "server": ("127.0.0.1", 80), "path": "/webhooks/twilio/sms", "host": None},
    {"scheme": "http", "server": ("::1", 8081), "path": "/webhooks/twilio/sms", "host": None},
    {"scheme": "https", "server": None, "path": "/webhooks/twilio/sms", "host": None},
    {"scheme": "https", "server": None, "path": "//twice", "host": None},
    {"scheme": "http", "server": ("h", 1), "path": "/a?b#c\\d", "host": b"bad host:port:x"},
    {"scheme": "https", "server": ("h", 443), "path": "/webhooks/twilio/sms", "host": b"[::1]:8443"},
]


def _request(scheme, server, path, host, query=b"a=1&b=%20"):
    headers = [(b"content-type", b"application/x-www-form-urlencoded")]
    if host is not None:
        headers.append((b"host", host))
    return Request(
        {
            "type": "http",
            "scheme": scheme,
            "server": server,
            "path": path,
            "query_string": query,
            "headers": headers,
        }
    )


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("query", [b"", b"a=1&b=%20"])
def test_the_same_url_as_starlettes(scope, query):
    request = _request(scope["scheme"], scope["server"], scope["path"], scope["host"], query)
    assert _request_url(request) == str(request.url)
    assert _request_url(
        _request(scope["scheme"], scope["server"], scope["path"], scope["host"], query)
    ) == str(request.url)  # remembered: the same answer again


@given(
    scheme=st.sampled_from(["http", "https"]),
    port=st.integers(1, 65535),
    path=st.text(min_size=1, max_size=30).map(lambda p: "/" + p),
    host=st.none() | st.binary(max_size=30),
    query=st.binary(max_size=20).filter(lambda q: q.isascii()),
)
def test_any_scope_gives_starlettes_url(scheme, port, path, host, query):
    request = _request(scheme, ("192.0.2.1", port), path, host, query)
    assert _request_url(request) == str(_request(scheme, ("192.0.2.1", port), path, host, query).url)
