"""Authentic but arbitrary input through ingest's parsers (issue 16): correctly signed Twilio
forms and Telnyx events of any shape, and DMS batches of any shape from an integration. Each is
either accepted (and reaches Kafka) or refused with a 4xx in the error shape whose reason is kept
on the rejected topic (carriers) or in the rejections (DMS): never a 5xx, never dropped silently.

A refused example waits for its entry on the rejected topic before the next one."""

import json
import secrets
import time
import uuid

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from twilio.request_validator import RequestValidator

from devtools.carrier_simulator.telnyx import sign_telnyx
from ingest.dms_repository import save_dms_integration

FUZZ = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
BASE_URL = "https://ingest.example.test"
SMS_URL = f"{BASE_URL}/webhooks/twilio/sms"
STATUS_URL = f"{BASE_URL}/webhooks/twilio/status"
TEXT = st.text(max_size=30)
# Values a parser may choke on: numbers out of range, not numbers, odd Unicode, empty.
ODD = st.one_of(
    TEXT,
    st.integers(-(10**20), 10**20).map(str),
    st.sampled_from(["", "-1", "1e309", "NaN", "0x10", "\u0000", "\ud7ff", "+", "+1", "9" * 40]),
)


def twilio_form(data, account_sid: str, number: str, status: bool) -> dict[str, str]:
    form = {
        "AccountSid": account_sid,
        "MessageSid": f"SM{secrets.token_hex(16)}",
        "From": "+14385550123",
        "To": number,
        "Body": "hello",
        "NumMedia": "0",
        "MessageStatus": "delivered",
        "ErrorCode": "",
    }
    if not status:
        del form["MessageStatus"], form["ErrorCode"]
    for name in data.draw(st.sets(st.sampled_from(sorted(set(form) - {"AccountSid"})))):
        if data.draw(st.booleans()):
            del form[name]
        else:
            form[name] = data.draw(ODD)
    extra = data.draw(
        st.dictionaries(st.sampled_from(["MediaUrl0", "MediaContentType0", "SmsStatus", "X"]), ODD)
    )
    # A marker of this example that survives any change above (the rejected entry keeps the body).
    return {**form, **extra, "CaseMarker": uuid.uuid4().hex}


async def assert_answered_or_kept(kafka, marker: str, response: httpx.Response, ok=(200,)) -> None:
    """200 (accepted or duplicate), or a 4xx in the error shape; an authentic webhook that cannot
    be used (400 unusable_webhook) has its input and the answer's reason on the rejected topic.
    (400 invalid_body: not even readable, so nobody's to keep.)"""
    assert response.status_code in (*ok, 400), (response.status_code, response.text)
    if response.status_code != 200:
        error = response.json()["error"]
        assert set(error) == {"code", "message", "details"}, error
    if response.status_code == 400 and error["code"] == "unusable_webhook":
        kept = await kafka.wait_for("carrier.rejected.v1", lambda record: marker in record["payload"])
        assert kept["reason"] == error["message"]


@FUZZ
@given(data=st.data(), status=st.booleans())
async def test_signed_arbitrary_twilio_forms_are_accepted_or_kept_as_rejected(
    ingest_app, kafka, twilio_account, data, status
):
    url = STATUS_URL if status else SMS_URL
    form = twilio_form(data, twilio_account.account_sid, twilio_account.number, status)
    signature = RequestValidator(twilio_account.auth_token).compute_signature(url, form)
    transport = httpx.ASGITransport(app=ingest_app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        response = await client.post(url, data=form, headers={"X-Twilio-Signature": signature})
    await assert_answered_or_kept(kafka, form["CaseMarker"], response)


TELNYX_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)


@FUZZ
@given(
    event_type=st.sampled_from(["message.received", "message.sent", "message.finalized", "x"]),
    payload=st.dictionaries(
        st.sampled_from(["id", "from", "to", "text", "media", "errors", "received_at", "occurred_at"]),
        TELNYX_JSON,
    ),
    to_ours=st.booleans(),
)
async def test_signed_arbitrary_telnyx_events_are_accepted_or_kept_as_rejected(
    ingest_app, kafka, telnyx_account, event_type, payload, to_ours
):
    marker = uuid.uuid4().hex
    if to_ours:
        payload["to"] = [{"phone_number": telnyx_account.number}]
    event = {"data": {"id": marker, "event_type": event_type, "payload": payload}, "marker": marker}
    body = json.dumps(event).encode()
    stamp = str(int(time.time()))
    transport = httpx.ASGITransport(app=ingest_app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        response = await client.post(
            "/webhooks/telnyx",
            content=body,
            headers={
                "content-type": "application/json",
                "telnyx-timestamp": stamp,
                "telnyx-signature-ed25519": sign_telnyx(telnyx_account.private_key, stamp, body),
            },
        )
    # 403: not one of our numbers, refused like a bad signature (nothing of anyone's to keep);
    # 422: an event type ingest does not handle (unsupported_event).
    await assert_answered_or_kept(kafka, marker, response, ok=(200, 403, 422))


DMS_EVENT = st.fixed_dictionaries(
    {},
    optional={
        "event_id": st.one_of(st.uuids().map(str), TELNYX_JSON),
        "type": st.one_of(
            st.sampled_from(
                ["customer.upserted", "appointment.scheduled", "payment.recorded", "repair_order.opened"]
            ),
            TELNYX_JSON,
        ),
        "dms_record_id": st.one_of(TEXT, TELNYX_JSON),
        "record_version": st.one_of(st.integers(-5, 10**12), TELNYX_JSON),
        "occurred_at": st.one_of(st.datetimes().map(lambda d: d.isoformat()), TEXT),
        "payload": st.dictionaries(
            st.sampled_from(["dms_customer_id", "first_name", "phones", "amount", "currency", "starts_at"]),
            TELNYX_JSON,
        ),
    },
)


@FUZZ
@given(batch=st.one_of(DMS_EVENT, st.lists(DMS_EVENT, min_size=1, max_size=5), TELNYX_JSON))
async def test_arbitrary_dms_batches_answer_every_event_and_keep_every_rejection(ingest_app, sessions, batch):
    integration = secrets.token_urlsafe(32)
    async with sessions.begin() as session:
        await save_dms_integration(session, uuid.uuid4(), uuid.uuid4(), f"fuzz {uuid.uuid4()}", integration)
    transport = httpx.ASGITransport(app=ingest_app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        response = await client.post(
            "/api/v1/dms/events",
            content=json.dumps(batch).encode(),
            headers={"authorization": f"Bearer {integration}", "content-type": "application/json"},
        )
    assert response.status_code in (202, 400, 422), (response.status_code, response.text)
    body = response.json()
    if response.status_code == 202:
        results = body["results"]
    else:
        error = body["error"]
        assert set(error) == {"code", "message", "details"}
        if not isinstance(error["details"], dict) or "results" not in error["details"]:
            return  # not events at all: refused whole, with the reason in the answer
        results = error["details"]["results"]
    events = batch if isinstance(batch, list) else [batch]
    assert len(results) == len(events)  # one answer per event: none dropped
    rejection_ids = []
    for result in results:
        if result["status"] == "rejected":
            assert result["reason"] and result["rejection_id"]
            rejection_ids.append(result["rejection_id"])
    if rejection_ids:
        async with sessions() as session:
            kept = await session.scalar(
                text("SELECT count(*) FROM ingest.dms_rejections WHERE id = ANY(CAST(:ids AS uuid[]))"),
                {"ids": rejection_ids},
            )
        assert kept == len(set(rejection_ids))
