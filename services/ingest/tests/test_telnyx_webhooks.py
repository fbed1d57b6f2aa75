"""Telnyx's real v2 JSON events, signed with a PyNaCl Ed25519 key pair, through the real app into
real Kafka and Postgres: what reaches the topics, and what is refused."""

import json
import time
import uuid

import pytest

from devtools.carrier_simulator.telnyx import (
    encode,
    new_key_pair,
    received_event,
    signed_headers,
    status_event,
)

URL = "/webhooks/telnyx"
CUSTOMER = "+14385550188"


def with_id(message_id: str):
    return lambda record: record.get("carrier_message_id") == message_id


async def post(
    client, private_key: str, event: dict, timestamp: int | None = None, body: bytes | None = None
):
    body = encode(event) if body is None else body
    return await client.post(URL, content=body, headers=signed_headers(private_key, body, timestamp))


async def test_received_mms_reaches_kafka_with_media_and_the_raw_event(client, kafka, telnyx_account):
    event = received_event(
        CUSTOMER,
        telnyx_account.number,
        "Is my Civic ready?",
        media=[("https://media.telnyx.com/abc/photo.jpg?sig=1", "image/jpeg")],
    )
    response = await post(client, telnyx_account.private_key, event)
    assert response.status_code == 200, response.text
    assert response.json() == {"outcome": "accepted"}
    message_id = event["data"]["payload"]["id"]
    published = await kafka.wait_for("carrier.inbound.v1", with_id(message_id))
    assert published["account_id"] == str(telnyx_account.account_id)
    assert (published["carrier"], published["from_number"], published["to_number"], published["body"]) == (
        "telnyx",
        CUSTOMER,
        telnyx_account.number,
        "Is my Civic ready?",
    )
    assert published["attachments"] == [
        {
            "url": "https://media.telnyx.com/abc/photo.jpg?sig=1",
            "content_type": "image/jpeg",
            "file_name": "photo.jpg",
        }
    ]
    assert json.loads(published["raw"]["json"]) == event
    assert published["raw"]["event_type"] == "message.received"


async def test_sent_and_finalized_become_statuses(client, kafka, telnyx_account):
    message_id = str(uuid.uuid4())
    for status in ("sent", "delivered"):
        event = status_event(message_id, telnyx_account.number, CUSTOMER, status)
        response = await post(client, telnyx_account.private_key, event)
        assert response.status_code == 200, response.text
    events = await kafka.all("carrier.status.v1", with_id(message_id))
    assert sorted((e["status"], e["error_category"], e["carrier"]) for e in events) == [
        ("delivered", None, "telnyx"),
        ("sent", None, "telnyx"),
    ]
    assert {e["account_id"] for e in events} == {str(telnyx_account.account_id)}


CATEGORIES = [
    ("delivery_failed", "40001", "Not routable", "landline"),
    ("delivery_failed", "40002", "Blocked as spam (temporary)", "carrier_filtered"),
    ("delivery_failed", "40003", "Blocked as spam (permanent)", "carrier_filtered"),
    ("delivery_failed", "40006", "Recipient unavailable", "unreachable"),
    ("delivery_failed", "40008", "Undeliverable", "unreachable"),
    ("sending_failed", "40011", "Rate limit", "rate_limited"),
    ("sending_failed", "40300", "Blocked due to STOP message", "opted_out"),
    ("sending_failed", "10002", "Invalid phone number", "wrong_number"),
    ("delivery_failed", "40004", "Rejected by destination", "unknown"),
    ("delivery_failed", "49999", "A code nobody mapped yet", "unknown"),
]


@pytest.mark.parametrize(("status", "code", "title", "category"), CATEGORIES)
async def test_finalized_errors_map_to_categories(
    client, kafka, telnyx_account, status, code, title, category
):
    message_id = str(uuid.uuid4())
    errors = [{"code": code, "title": title, "detail": f"detail of {code}"}]
    event = status_event(message_id, telnyx_account.number, CUSTOMER, status, errors)
    response = await post(client, telnyx_account.private_key, event)
    assert response.status_code == 200, response.text
    published = await kafka.wait_for("carrier.status.v1", with_id(message_id))
    assert (published["status"], published["error_code"], published["error_category"]) == (
        status,
        code,
        category,
    )
    assert published["error_message"] == f"{title} — detail of {code}"


async def test_duplicates_are_one_event(client, kafka, telnyx_account):
    received = received_event(CUSTOMER, telnyx_account.number, "again and again")
    outcomes = []
    for _ in range(2):
        # Telnyx's retry is a new delivery (new signature, new timestamp) of the same message.
        response = await post(
            client, telnyx_account.private_key, received, timestamp=int(time.time()) - len(outcomes)
        )
        outcomes.append(response.json()["outcome"])
    message_id = str(uuid.uuid4())
    finalized = status_event(message_id, telnyx_account.number, CUSTOMER, "delivered")
    for _ in range(2):
        outcomes.append((await post(client, telnyx_account.private_key, finalized)).json()["outcome"])
    assert outcomes == ["accepted", "duplicate", "accepted", "duplicate"]
    assert len(await kafka.all("carrier.inbound.v1", with_id(received["data"]["payload"]["id"]))) == 1
    assert len(await kafka.all("carrier.status.v1", with_id(message_id), settle=0)) == 1


@pytest.mark.parametrize(
    "attack", ["other_key", "tampered_body", "no_signature", "garbage_signature", "replayed", "future"]
)
async def test_forged_or_replayed_webhooks_are_refused_and_publish_nothing(
    client, kafka, telnyx_account, attack
):
    event = received_event(CUSTOMER, telnyx_account.number, "trust me")
    body = encode(event)
    headers = signed_headers(telnyx_account.private_key, body)
    if attack == "other_key":
        headers = signed_headers(new_key_pair()[0], body)
    elif attack == "tampered_body":
        body = body.replace(b"trust me", b"trust us")
    elif attack == "no_signature":
        del headers["telnyx-signature-ed25519"]
    elif attack == "garbage_signature":
        headers["telnyx-signature-ed25519"] = "%%%not base64%%%"
    elif attack == "replayed":  # a genuine signature, captured six minutes ago
        headers = signed_headers(telnyx_account.private_key, body, int(time.time()) - 360)
    elif attack == "future":
        headers = signed_headers(telnyx_account.private_key, body, int(time.time()) + 360)
    response = await client.post(URL, content=body, headers=headers)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "invalid_signature"
    message_id = event["data"]["payload"]["id"]
    assert await kafka.all("carrier.inbound.v1", with_id(message_id)) == []
    assert await kafka.all("carrier.rejected.v1", lambda r: message_id in r["payload"], settle=0) == []


async def test_an_unknown_number_is_refused_like_a_bad_signature(client, kafka, telnyx_account):
    """Signed or not, a webhook for a number no account receives on gets the answer a forged
    one for a real number gets: the response never tells which numbers exist."""
    forged_for_ours = encode(received_event(CUSTOMER, telnyx_account.number, "probe"))
    stranger = received_event(CUSTOMER, "+15145550000", "who?")
    answers = []
    for body, key in (
        (forged_for_ours, new_key_pair()[0]),
        (encode(stranger), new_key_pair()[0]),
        (encode(stranger), telnyx_account.private_key),
    ):
        response = await client.post(URL, content=body, headers=signed_headers(key, body))
        answers.append((response.status_code, response.json()["error"]))
    assert answers[0][0] == 403
    assert answers[1] == answers[0]
    assert answers[2] == answers[0]
    message_id = stranger["data"]["payload"]["id"]
    assert await kafka.all("carrier.rejected.v1", lambda r: message_id in r["payload"], settle=0) == []


async def test_bad_requests_get_a_clear_4xx(client, telnyx_account):
    event = received_event(CUSTOMER, telnyx_account.number, "hi")
    body = encode(event)
    headers = signed_headers(telnyx_account.private_key, body)

    async def error(body: bytes, headers: dict) -> tuple[int, str]:
        response = await client.post(URL, content=body, headers=headers)
        return response.status_code, response.json()["error"]["code"]

    assert await error(body, {**headers, "content-type": "text/plain"}) == (415, "unsupported_media_type")
    huge = encode({**event, "padding": "x" * 70_000})
    assert await error(huge, signed_headers(telnyx_account.private_key, huge)) == (413, "payload_too_large")
    assert await error(b"{not json", headers) == (400, "invalid_body")
    assert await error(b"\xff\xfe", headers) == (400, "invalid_body")
    assert await error(b"[]", headers) == (400, "invalid_body")
    no_to = encode({"data": {"event_type": "message.received", "payload": {"to": []}}})
    assert await error(no_to, signed_headers(telnyx_account.private_key, no_to)) == (400, "invalid_body")
    call = encode({"data": {"event_type": "call.initiated", "payload": {}}})
    assert await error(call, signed_headers(telnyx_account.private_key, call)) == (422, "unsupported_event")


async def test_authentic_but_unusable_events_are_400_and_recorded_as_rejected(client, kafka, telnyx_account):
    event = received_event(CUSTOMER, telnyx_account.number, "no id")
    marker = str(uuid.uuid4())
    event["data"]["payload"]["id"] = ""
    event["data"]["id"] = marker
    response = await post(client, telnyx_account.private_key, event)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "missing payload.id"
    rejected = await kafka.wait_for("carrier.rejected.v1", lambda r: marker in r["payload"])
    assert (rejected["source"], rejected["reason"], rejected["account_id"]) == (
        "telnyx.message.received",
        "missing payload.id",
        str(telnyx_account.account_id),
    )

    finalized = status_event(str(uuid.uuid4()), telnyx_account.number, CUSTOMER, "delivered")
    finalized["data"]["payload"]["to"][0]["status"] = None
    response = await post(client, telnyx_account.private_key, finalized)
    assert (response.status_code, response.json()["error"]["message"]) == (
        400,
        "missing payload.to[0].status",
    )
