"""Texts out (with their segments) and undelivered texts per dealership and month, as an
operator reads them, through the whole notifier app: outbound requests on the real Kafka, sent
through the carrier simulator as a real HTTP server, statuses and routing's delivery failures
read back from Kafka into Postgres; a replay counts once; only the operator token reads it."""

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from uuid import UUID, uuid4

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from devtools.carrier_simulator.__main__ import create_app as create_simulator
from devtools.carrier_simulator.send_api import SimulatorConfig, SimulatorState
from notifier.app import create_app
from notifier.migrations import migrate
from notifier.outbound.credentials import save_carrier_account
from notifier.settings import NotifierSettings
from shared.contracts.base import Event
from shared.contracts.conversation import DeliveryFailed
from shared.contracts.messaging import OutboundRequested
from shared.contracts.topics import MESSAGE_DELIVERY_FAILED, SMS_OUTBOUND_REQUESTED, TopicSpec
from shared.db.engine import create_engine, create_session_factory
from shared.kafka.topics import topic_name
from shared.testing.http_server import serving
from shared.testing.infrastructure import fresh_database, kafka_bootstrap
from shared.testing.topic_prefixes import new_topic_prefix

OPERATOR_TOKEN = secrets.token_urlsafe(24)
OPERATOR = {"authorization": f"Bearer {OPERATOR_TOKEN}"}


@pytest.fixture(scope="module")
def usage_database_url() -> Iterator[str]:
    with fresh_database("sbnusage", migrate) as url:
        yield url


@pytest.fixture(scope="module")
async def system(usage_database_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, NotifierSettings]]:
    state = SimulatorState(SimulatorConfig(callbacks_enabled=False))
    async with serving(create_simulator("http://127.0.0.1:9", state)) as simulator_url:
        settings = NotifierSettings(
            database_url=usage_database_url,
            kafka_bootstrap_servers=kafka_bootstrap(),
            kafka_topic_prefix=new_topic_prefix("tnu"),
            kafka_partitions=1,
            twilio_api_base_url=simulator_url,
            telnyx_api_base_url=simulator_url,
            carrier_callback_base_url="http://ingest.test",
            routing_url="http://127.0.0.1:9",
            operator_tokens=f"billing={OPERATOR_TOKEN}",
            log_format="console",
            log_level="WARNING",
            shutdown_grace_seconds=3,
        )
        app = create_app(settings)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://notifier.test"
            ) as client,
        ):
            yield client, settings


@pytest.fixture(scope="module")
async def producer(system) -> AsyncIterator[AIOKafkaProducer]:
    _client, settings = system
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    await producer.start()
    yield producer
    await producer.stop()


async def publish(
    producer: AIOKafkaProducer, settings: NotifierSettings, spec: TopicSpec, event: Event
) -> None:
    await producer.send_and_wait(
        topic_name(settings, spec.name), event.to_bytes(), key=event.partition_key.encode()
    )


@pytest.fixture
async def account(system, usage_database_url: str) -> UUID:
    _client, settings = system
    account_id = uuid4()
    engine = create_engine(settings)
    async with create_session_factory(engine).begin() as session:
        await save_carrier_account(
            session, account_id, "twilio", "token-" + secrets.token_hex(8), f"AC{uuid4().hex}"
        )
    await engine.dispose()
    return account_id


def outbound(account_id: UUID, body: str) -> OutboundRequested:
    return OutboundRequested(
        account_id=account_id,
        message_id=uuid4(),
        conversation_id=uuid4(),
        customer_id=uuid4(),
        carrier="twilio",
        from_number=f"+1514{secrets.randbelow(800) + 200}{secrets.randbelow(9000) + 1000}",
        to_number=f"+1438{secrets.randbelow(800) + 200}{secrets.randbelow(8000) + 1000}",
        body=body,
        source_kind="manual",
    )


async def usage(client: httpx.AsyncClient, account_id: UUID, month: str | None = None) -> dict:
    params = {"account_id": str(account_id), **({"month": month} if month else {})}
    response = await client.get("/platform/v1/usage", params=params, headers=OPERATOR)
    assert response.status_code == 200, response.text
    return response.json()["counts"]


async def counts_become(client, account_id, expected: dict, month: str | None = None) -> dict:
    for _ in range(200):
        counts = await usage(client, account_id, month)
        if all(counts[k] == v for k, v in expected.items()):
            return counts
        await asyncio.sleep(0.1)
    raise AssertionError(f"usage never became {expected}: {counts}")


async def test_texts_out_count_once_with_their_segments(system, producer, account):
    client, settings = system
    texts = [
        outbound(account, "Your car is ready"),  # GSM-7, 1
        outbound(account, "a" * 161),  # GSM-7, 2
        outbound(account, "Votre véhicule est prêt 🚗"),  # UCS-2, 1
        outbound(account, "ç" * 71),  # UCS-2, 2
    ]
    for text in texts:
        await publish(producer, settings, SMS_OUTBOUND_REQUESTED, text)
    # Kafka delivers the first request again (a consumer restart): sent and counted once.
    await publish(producer, settings, SMS_OUTBOUND_REQUESTED, texts[0])
    counts = await counts_become(client, account, {"texts_out": 4, "segments_out": 6})
    await asyncio.sleep(1.0)  # the redelivery had its chance to count twice
    assert (
        await usage(client, account)
        == counts
        == {
            "texts_out": 4,
            "segments_out": 6,
            "texts_out_with_media": 0,
            "undelivered": 0,
        }
    )
    assert (await usage(client, uuid4()))["texts_out"] == 0  # another dealership's are its own


async def test_undelivered_texts_count_once_in_the_month_they_failed(system, producer, account):
    client, settings = system
    failed_in_march = DeliveryFailed(
        account_id=account,
        conversation_id=uuid4(),
        message_id=uuid4(),
        status="undelivered",
        error_category="landline",
        occurred_at=datetime(2025, 3, 15, 12, tzinfo=UTC),
    )
    failed_now = DeliveryFailed(
        account_id=account,
        conversation_id=uuid4(),
        message_id=uuid4(),
        status="failed",
        error_category="unknown",
    )
    for event in (failed_in_march, failed_in_march, failed_now, failed_now):
        await publish(producer, settings, MESSAGE_DELIVERY_FAILED, event)
    await counts_become(client, account, {"undelivered": 1})
    await counts_become(client, account, {"undelivered": 1}, "2025-03")
    await asyncio.sleep(1.0)
    assert (await usage(client, account))["undelivered"] == 1
    assert (await usage(client, account, "2025-03"))["undelivered"] == 1
    assert (await usage(client, account, "2025-04"))["undelivered"] == 0


async def test_only_an_operator_token_reads_usage(system):
    client, _settings = system
    params = {"account_id": str(uuid4())}
    for headers in ({}, {"authorization": "Bearer nope"}):
        refused = await client.get("/platform/v1/usage", params=params, headers=headers)
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
    malformed = await client.get(
        "/platform/v1/usage", params={**params, "month": "12-2026"}, headers=OPERATOR
    )
    assert malformed.status_code == 422 and malformed.json()["error"]["code"] == "invalid_month"
