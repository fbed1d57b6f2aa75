"""DMS events over HTTP, as an integrator sends them: authenticated by the integration's secret,
usable events onto dms.events.v1 (after Kafka acknowledged them), the others onto
dms.events.rejected.v1 and readable back through the rejections API; never another account's."""

import asyncio
import contextlib
import json
import secrets
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from sqlalchemy import text

from ingest.api.dms import dms_router
from ingest.dms_repository import save_dms_integration
from ingest.usecases.dms import DmsDeps
from shared.contracts.topics import DMS_EVENTS, DMS_REJECTED
from shared.http.errors import install_error_handlers
from shared.kafka.broker import EventPublisher

BASE_URL = "https://ingest.example.test"
EVENTS = "/api/v1/dms/events"
REJECTIONS = "/api/v1/dms/rejections"


class Integrator:
    def __init__(self, account_id: uuid.UUID, integration_id: uuid.UUID, secret: str) -> None:
        self.account_id = account_id
        self.integration_id = integration_id
        self.secret = secret

    @property
    def auth(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.secret}"}


@pytest.fixture
async def integrator(sessions) -> Integrator:
    found = Integrator(uuid.uuid4(), uuid.uuid4(), secrets.token_urlsafe(32))
    async with sessions.begin() as session:
        await save_dms_integration(session, found.integration_id, found.account_id, "CDK test", found.secret)
    return found


@pytest.fixture(scope="module")
async def dms_topics(ingest_app, ingest_settings) -> AsyncIterator[list[tuple[str, bytes | None, dict]]]:
    """Every record on the DMS topics as (topic without prefix, key, JSON)."""
    prefix = ingest_settings.kafka_topic_prefix
    consumer = AIOKafkaConsumer(
        *(f"{prefix}{spec.name}" for spec in (DMS_EVENTS, DMS_REJECTED)),
        bootstrap_servers=ingest_settings.kafka_bootstrap_servers,
        group_id=None,
        auto_offset_reset="earliest",
        metadata_max_age_ms=1000,
    )
    await consumer.start()
    records: list[tuple[str, bytes | None, dict]] = []

    async def collect() -> None:
        async for record in consumer:
            records.append((record.topic.removeprefix(prefix), record.key, json.loads(record.value)))

    task = asyncio.create_task(collect())
    for _ in range(100):
        if len(consumer.assignment()) == 2:
            break
        await asyncio.sleep(0.1)
    yield records
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
    await consumer.stop()


async def _wait_for(records, topic: str, match, timeout: float = 15.0) -> tuple[bytes | None, dict]:
    for _ in range(int(timeout * 10)):
        for name, key, value in records:
            if name == topic and match(value):
                return key, value
        await asyncio.sleep(0.1)
    raise AssertionError(f"nothing matching on {topic}")


def payment(**overrides) -> dict:
    event = {
        "event_id": str(uuid.uuid4()),
        "type": "payment.recorded",
        "dms_record_id": "P-100",
        "record_version": 1,
        "payload": {"payment_id": "P-100", "dms_customer_id": "C-7", "amount": "412.5", "currency": "USD"},
    }
    event.update(overrides)
    return event


async def test_one_event_reaches_kafka_with_the_integrations_account(client, integrator, dms_topics):
    event = payment()
    response = await client.post(EVENTS, json=event, headers=integrator.auth)
    assert response.status_code == 202, response.text
    assert response.json() == {
        "accepted": 1,
        "rejected": 0,
        "results": [
            {
                "index": 0,
                "event_id": event["event_id"],
                "status": "accepted",
                "reason": None,
                "errors": [],
                "rejection_id": None,
            }
        ],
    }
    key, published = await _wait_for(
        dms_topics, "dms.events.v1", lambda v: v["event_id"] == event["event_id"]
    )
    assert key == b"C-7"
    assert published["account_id"] == str(integrator.account_id)
    assert published["integration_id"] == str(integrator.integration_id)
    assert published["payload"]["amount"] == "412.50"


async def test_the_key_header_works_as_well_as_bearer(client, integrator):
    headers = {"x-switchboard-integration-key": integrator.secret}
    response = await client.post(EVENTS, json={"events": [payment()]}, headers=headers)
    assert response.status_code == 202, response.text


@pytest.mark.parametrize(
    "headers",
    [{}, {"authorization": "Bearer wrong-secret"}, {"x-switchboard-integration-key": "nope"}],
)
async def test_without_the_right_secret_nothing_is_accepted(client, integrator, headers):
    response = await client.post(EVENTS, json=payment(), headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert (await client.get(REJECTIONS, headers=headers)).status_code == 401


async def test_a_mixed_batch_answers_per_event_and_keeps_the_rejected(client, integrator, dms_topics):
    good = payment()
    bad_amount = payment(
        payload={"payment_id": "P-100", "dms_customer_id": "C-7", "amount": "4.125", "currency": "USD"}
    )
    other_account = payment(account_id=str(uuid.uuid4()))
    response = await client.post(
        EVENTS, json={"events": [good, bad_amount, other_account, "not an object"]}, headers=integrator.auth
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (1, 3)
    assert [r["status"] for r in body["results"]] == ["accepted", "rejected", "rejected", "rejected"]
    assert "payload.amount" in body["results"][1]["reason"]
    assert body["results"][1]["errors"][0]["loc"] == "payload.amount"
    assert "not the account of this integration" in body["results"][2]["reason"]

    # On the rejected topic with the reason, and nothing of them on the events topic.
    _, rejected = await _wait_for(
        dms_topics, "dms.events.rejected.v1", lambda v: v["event_id"] == bad_amount["event_id"]
    )
    assert rejected["account_id"] == str(integrator.account_id)
    assert rejected["rejection_id"] == body["results"][1]["rejection_id"]
    assert json.loads(rejected["payload"])["payload"]["amount"] == "4.125"
    await _wait_for(dms_topics, "dms.events.v1", lambda v: v["event_id"] == good["event_id"])
    await asyncio.sleep(1)
    leaked = {bad_amount["event_id"], other_account["event_id"]}
    assert not [v for name, _, v in dms_topics if name == "dms.events.v1" and v["event_id"] in leaked]

    # And readable back by the integrator, newest first.
    listed = (await client.get(REJECTIONS, headers=integrator.auth)).json()["items"]
    assert {item["rejection_id"] for item in listed} == {r["rejection_id"] for r in body["results"][1:]}
    by_id = {item["event_id"]: item for item in listed}
    assert by_id[other_account["event_id"]]["reason"] == "account_id is not the account of this integration"


async def test_a_batch_with_nothing_usable_is_422_and_still_kept(client, integrator):
    response = await client.post(
        EVENTS,
        json={"events": [payment(type="payment.refunded"), payment(record_version=-3)]},
        headers=integrator.auth,
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "events_rejected"
    assert [r["status"] for r in error["details"]["results"]] == ["rejected", "rejected"]
    listed = (await client.get(REJECTIONS, headers=integrator.auth)).json()["items"]
    assert len(listed) == 2


async def test_rejections_are_the_integrations_own_and_paginated(client, integrator, sessions):
    other = Integrator(uuid.uuid4(), uuid.uuid4(), secrets.token_urlsafe(32))
    async with sessions.begin() as session:
        await save_dms_integration(session, other.integration_id, other.account_id, "Other", other.secret)
    for _ in range(3):
        await client.post(EVENTS, json=payment(type="nope"), headers=integrator.auth)
    await client.post(EVENTS, json=payment(type="nope"), headers=other.auth)

    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(REJECTIONS, headers=integrator.auth, params=params)).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 3 == len({item["rejection_id"] for item in seen})
    assert [item["received_at"] for item in seen] == sorted(
        (item["received_at"] for item in seen), reverse=True
    )
    assert len((await client.get(REJECTIONS, headers=other.auth)).json()["items"]) == 1
    bad_cursor = await client.get(REJECTIONS, headers=integrator.auth, params={"cursor": "zzz"})
    assert bad_cursor.status_code == 400


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (json.dumps({"events": []}).encode(), "application/json", 400),
        (json.dumps({"events": [{}] * 501}).encode(), "application/json", 400),
        (b"{}", "text/plain", 415),
    ],
)
async def test_unreadable_bodies_are_refused_whole(client, integrator, body, content_type, status):
    headers = {**integrator.auth, "content-type": content_type}
    response = await client.post(EVENTS, content=body, headers=headers)
    assert response.status_code == status, response.text
    assert "error" in response.json()


async def test_the_secret_is_stored_only_as_a_hash(sessions, integrator):
    async with sessions() as session:
        stored = await session.scalar(
            text("SELECT secret_sha256 FROM ingest.dms_integration_secrets WHERE integration_id = :id"),
            {"id": integrator.integration_id},
        )
    assert stored and integrator.secret not in stored and len(stored) == 64


async def test_kafka_unreachable_is_503_and_nothing_is_kept(ingest_settings, sessions, integrator):
    """Against a broker address where no Kafka listens: the integrator is told to retry, and the
    rejection of the invalid event in the same batch is not stored either (all or nothing)."""
    unreachable = ingest_settings.model_copy(
        update={"kafka_bootstrap_servers": "127.0.0.1:1", "kafka_publish_timeout_seconds": 1.0}
    )
    publisher = EventPublisher(KafkaBroker(unreachable.kafka_bootstrap_servers), unreachable)
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(dms_router(DmsDeps(sessions, publisher), 1024 * 1024))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as http:
        batch = {"events": [payment(), payment(type="nope")]}
        response = await http.post(EVENTS, json=batch, headers=integrator.auth)
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "unavailable"
        listed = await http.get(REJECTIONS, headers=integrator.auth)
    assert listed.json()["items"] == []


async def test_openapi_documents_every_answer(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert set(paths["/api/v1/dms/events"]["post"]["responses"]) == {
        "202",
        "400",
        "401",
        "413",
        "415",
        "422",
        "503",
    }
    assert {"200", "400", "401"} <= set(paths["/api/v1/dms/rejections"]["get"]["responses"])
