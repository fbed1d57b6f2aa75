"""Whatever arrives at the webhook endpoints — random bodies, headers, content types, and even
correctly signed but arbitrary JSON — the answer is never a 5xx and the process never fails."""

import json
import time

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devtools.carrier_simulator.telnyx import sign_telnyx

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CONTENT_TYPES = st.one_of(
    st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "application/json",
            "application/json; charset=utf-8",
            "text/plain",
            "multipart/form-data; boundary=x",
            "",
        ]
    ),
    st.text(max_size=40),
)
HEADER_VALUES = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=120)
FUZZ_HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "x-twilio-signature": HEADER_VALUES,
        "telnyx-signature-ed25519": HEADER_VALUES,
        "telnyx-timestamp": HEADER_VALUES,
        "content-length": HEADER_VALUES,
        "host": HEADER_VALUES,
    },
)
BODIES = st.one_of(
    st.binary(max_size=2000),
    st.dictionaries(st.text(max_size=15), st.text(max_size=40), max_size=10).map(
        lambda d: httpx.QueryParams(d).__str__().encode()
    ),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
        ),
        max_leaves=25,
    ).map(lambda value: json.dumps(value).encode()),
)
PATHS = st.sampled_from(["/webhooks/twilio/sms", "/webhooks/twilio/status", "/webhooks/telnyx"])


def _safe_headers(headers: dict[str, str], content_type: str) -> dict[str, str]:
    # httpx refuses to send some header values at all; those never reach a server either.
    out = {k: v for k, v in headers.items() if v == v.strip()}
    if content_type == content_type.strip() and content_type.isprintable() and content_type.isascii():
        out["content-type"] = content_type
    return out


@FUZZ
@given(path=PATHS, body=BODIES, content_type=CONTENT_TYPES, headers=FUZZ_HEADERS)
async def test_random_input_never_gets_a_5xx(ingest_app, path, body, content_type, headers):
    transport = httpx.ASGITransport(app=ingest_app, raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url="https://ingest.example.test") as client:
        response = await client.post(path, content=body, headers=_safe_headers(headers, content_type))
    assert response.status_code < 500, (response.status_code, response.text)
    assert "error" in response.json() or response.status_code == 200


TELNYX_EVENT_TYPES = st.sampled_from(["message.received", "message.sent", "message.finalized", "x.y"])
ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=15,
)


def payload_strategy(number: str):
    """Payloads shaped like Telnyx's, with any field possibly missing or of any type."""
    phone = st.one_of(st.just({"phone_number": number}), ANY_JSON)
    return st.fixed_dictionaries(
        {"to": st.one_of(st.lists(phone, min_size=1, max_size=2), ANY_JSON)},
        optional={
            "id": st.one_of(st.uuids().map(str), ANY_JSON),
            "from": phone,
            "text": ANY_JSON,
            "media": st.one_of(
                st.lists(st.dictionaries(st.sampled_from(["url", "content_type"]), ANY_JSON)), ANY_JSON
            ),
            "errors": st.one_of(
                st.lists(st.dictionaries(st.sampled_from(["code", "title", "detail"]), ANY_JSON)), ANY_JSON
            ),
        },
    )


@FUZZ
@given(data=st.data())
async def test_signed_but_arbitrary_telnyx_events_never_get_a_5xx(ingest_app, telnyx_account, data):
    """Authentic (correctly signed) events with any shape reach the use case and the rejected
    topic path: still only 2xx or 4xx."""
    payload = data.draw(payload_strategy(telnyx_account.number))
    if data.draw(st.booleans()):
        payload["from"] = {"phone_number": telnyx_account.number}
    event = {"data": {"event_type": data.draw(TELNYX_EVENT_TYPES), "payload": payload}}
    body = json.dumps(event).encode()
    stamp = str(int(time.time()))
    headers = {
        "content-type": "application/json",
        "telnyx-timestamp": stamp,
        "telnyx-signature-ed25519": sign_telnyx(telnyx_account.private_key, stamp, body),
    }
    transport = httpx.ASGITransport(app=ingest_app, raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url="https://ingest.example.test") as client:
        response = await client.post("/webhooks/telnyx", content=body, headers=headers)
    assert response.status_code < 500, (response.status_code, response.text)
