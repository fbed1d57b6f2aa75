"""The outbox relay over real PostgreSQL and Kafka: unpublished rows go to Kafka in id order and
are marked published only once Kafka acknowledged them; a relay that cannot reach Kafka marks
nothing (the rows leave with the next relay); while one replica's relay holds the lock, another
takes nothing."""

import asyncio
import contextlib

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream.kafka import KafkaBroker
from sqlalchemy import select, text

from routing.migrations import migrate
from routing.outbox import _RELAY_LOCK, OutboxRelay
from routing.settings import RoutingSettings
from routing.tables import outbox
from shared.db.engine import create_engine, create_session_factory
from shared.kafka.broker import EventPublisher, PublishFailed
from shared.testing.infrastructure import fresh_database, kafka_bootstrap
from shared.testing.topic_prefixes import new_topic_prefix
from shared.testing.waiting import eventually

TOPIC = "relay-test.v1"


@pytest.fixture
def relay_database_url():
    """A database of its own: the relay takes every unpublished row, other tests' included."""
    with fresh_database("sbrelay", migrate) as url:
        yield url


async def _unpublished(sessions) -> list[bytes]:
    async with sessions() as session:
        rows = await session.execute(
            select(outbox.c.payload)
            .where(outbox.c.topic == TOPIC, outbox.c.published_at.is_(None))
            .order_by(outbox.c.id)
        )
        return [bytes(payload) for payload in rows.scalars()]


async def _nothing_unpublished(sessions) -> bool:
    return not await _unpublished(sessions)


async def test_rows_leave_in_id_order_and_are_marked_only_after_kafka_acknowledged(relay_database_url):
    bootstrap = kafka_bootstrap()
    prefix = new_topic_prefix("tr")
    settings = RoutingSettings(
        database_url=relay_database_url,
        kafka_bootstrap_servers=bootstrap,
        kafka_topic_prefix=prefix,
        kafka_publish_timeout_seconds=2,
    )
    engine = create_engine(settings)
    sessions = create_session_factory(engine)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(f"{prefix}{TOPIC}", 1, 1)])
    payloads = [f'{{"n": {n}}}'.encode() for n in range(7)]
    async with sessions.begin() as session:
        await session.execute(
            outbox.insert(), [{"topic": TOPIC, "key": "k", "payload": p, "headers": {}} for p in payloads[:5]]
        )

    broker = KafkaBroker(bootstrap)
    publisher = EventPublisher(broker, settings)
    relay = OutboxRelay(sessions, publisher, batch_size=3, idle_poll_seconds=0.1, gather_seconds=0.01)
    try:
        # Kafka not reachable yet (the broker is not started): nothing is marked published.
        with contextlib.suppress(PublishFailed):
            await relay.relay_once()
        assert await _unpublished(sessions) == payloads[:5]

        await broker.start()
        # Another replica's relay holds the lock: this one takes nothing and marks nothing.
        async with sessions.begin() as other:
            assert await other.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _RELAY_LOCK})
            assert await relay.relay_once() == 0
        assert await _unpublished(sessions) == payloads[:5]

        assert await relay.relay_once() == 3  # a batch at most
        assert await _unpublished(sessions) == payloads[3:5]
        async with sessions.begin() as session:
            await session.execute(
                outbox.insert(),
                [{"topic": TOPIC, "key": "k", "payload": p, "headers": {}} for p in payloads[5:]],
            )
        stop = asyncio.Event()
        running = asyncio.create_task(relay.run(stop))
        relay.wake()
        assert await eventually(lambda: _nothing_unpublished(sessions), timeout=10)
        stop.set()
        relay.wake()
        await asyncio.wait_for(running, 5)

        reader = AIOKafkaConsumer(
            f"{prefix}{TOPIC}", bootstrap_servers=bootstrap, auto_offset_reset="earliest"
        )
        await reader.start()
        try:
            received: list[bytes] = []
            async with asyncio.timeout(15):
                while len(received) < len(payloads):
                    batch = await reader.getmany(timeout_ms=500)
                    received += [record.value for records in batch.values() for record in records]
        finally:
            await reader.stop()
    finally:
        await broker.stop()
        await admin.delete_topics([f"{prefix}{TOPIC}"])
        await admin.close()
        await engine.dispose()

    assert received == payloads  # each once, in id order
