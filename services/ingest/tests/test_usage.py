"""Texts in per dealership and month, as an operator reads them: real signed webhooks through
the real app on the real Kafka and Postgres; each text counted when it is accepted (in its claim's
transaction, so it is there once the webhook is answered), and the carrier's retry, a status
callback and the text's record replayed on carrier.inbound.v1 count nothing more; only the
operator token reads it. A caught-up text counts in its send month: test_catch_up.py."""

import asyncio
import contextlib
import secrets
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from twilio.request_validator import RequestValidator

from devtools.carrier_simulator.twilio import inbound_sms_form
from ingest.app import create_app
from ingest.domain import twilio
from ingest.settings import IngestSettings
from shared.contracts.topics import CARRIER_INBOUND
from shared.http.usage import UsageMonth
from shared.testing.topic_prefixes import new_topic_prefix

BASE_URL = "https://ingest.example.test"
SMS_URL = f"{BASE_URL}/webhooks/twilio/sms"
OPERATOR_TOKEN = secrets.token_urlsafe(24)
OPERATOR = {"authorization": f"Bearer {OPERATOR_TOKEN}"}


@pytest.fixture(scope="module")
async def app_with_operator(
    ingest_settings: IngestSettings, staff_directory_server
) -> AsyncIterator[tuple[httpx.AsyncClient, IngestSettings]]:
    settings = ingest_settings.model_copy(
        update={
            "operator_tokens": f"billing={OPERATOR_TOKEN}",
            "kafka_topic_prefix": new_topic_prefix("tiu"),
        }
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client,
    ):
        yield client, settings
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        ours = [t for t in await admin.list_topics() if t.startswith(settings.kafka_topic_prefix)]
        with contextlib.suppress(Exception):
            await admin.delete_topics(ours)
    finally:
        await admin.close()


async def usage(client: httpx.AsyncClient, account_id, month: str | None = None) -> httpx.Response:
    params = {"account_id": str(account_id), **({"month": month} if month else {})}
    return await client.get("/platform/v1/usage", params=params, headers=OPERATOR)


async def test_each_text_in_counts_once_in_its_month(app_with_operator, twilio_account):
    client, settings = app_with_operator
    account = twilio_account
    forms = [
        inbound_sms_form(account.account_sid, "+14385550100", account.number, f"text {i}") for i in range(3)
    ]
    for form in forms:
        headers = {
            "X-Twilio-Signature": RequestValidator(account.auth_token).compute_signature(SMS_URL, form)
        }
        assert (await client.post(SMS_URL, data=form, headers=headers)).status_code == 200
        # The carrier's retry of the same text.
        assert (await client.post(SMS_URL, data=form, headers=headers)).status_code == 200
    # Counted with the claim: there as soon as the webhooks were answered, nothing to wait for.
    body = (await usage(client, account.account_id)).json()
    assert body["counts"]["texts_in"] == 3
    this_month = UsageMonth.of(datetime.now(UTC))
    assert body["month"] == str(this_month) and body["service"] == "ingest"
    assert body["period_start"].startswith(this_month.start.date().isoformat())

    # A status callback is not a text in.
    status = {
        "AccountSid": account.account_sid,
        "MessageSid": forms[0]["MessageSid"],
        "MessageStatus": "delivered",
    }
    status_url = f"{BASE_URL}/webhooks/twilio/status"
    headers = {
        "X-Twilio-Signature": RequestValidator(account.auth_token).compute_signature(status_url, status)
    }
    assert (await client.post(status_url, data=status, headers=headers)).status_code == 200

    # The texts' records replayed on the topic (a producer's retry, a re-published topic): each
    # text still counts once.
    replayed = [twilio.inbound_message(form, account.account_id, datetime.now(UTC)) for form in forms]
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        for event in replayed:
            await producer.send_and_wait(
                f"{settings.kafka_topic_prefix}{CARRIER_INBOUND.name}",
                event.to_bytes(),
                key=event.partition_key.encode(),
            )
    finally:
        await producer.stop()
    await asyncio.sleep(1.0)  # a reader of the topic had its chance to count
    assert (await usage(client, account.account_id)).json()["counts"]["texts_in"] == 3
    # Another dealership's count is its own.
    assert (await usage(client, uuid.uuid4())).json()["counts"]["texts_in"] == 0


async def test_only_an_operator_token_reads_usage(app_with_operator, staff):
    client, _settings = app_with_operator
    admin = staff("admin")
    params = {"account_id": str(admin.account_id)}
    for headers in ({}, admin.headers, {"authorization": "Bearer not-the-token"}):
        refused = await client.get("/platform/v1/usage", params=params, headers=headers)
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "unauthorized"
    for bad in ({"account_id": "nope"}, {"account_id": str(admin.account_id), "month": "2026-13"}, {}):
        response = await client.get("/platform/v1/usage", params=bad, headers=OPERATOR)
        assert response.status_code == 422, bad
        assert "error" in response.json()
