"""The relay holds no transaction (and no row lock) while it waits for Kafka."""

import asyncio
from datetime import timedelta
from uuid import uuid4

import asyncpg

from exporter.usecases.events import JobEvents
from exporter.usecases.relay import ExportOutboxRelay
from exporter.usecases.request_export import request_export
from shared.contracts.topics import EXPORT_REQUESTED


class SlowKafka:
    """The real publisher, each acknowledgement arriving `delay` seconds late (a slow broker)."""

    def __init__(self, publisher, delay: float) -> None:
        self._publisher = publisher
        self._delay = delay

    async def publish(self, *args, **kwargs):
        await asyncio.sleep(self._delay)
        return await self._publisher.publish(*args, **kwargs)


async def test_rows_are_not_locked_while_the_relay_publishes(
    sessions, settings, links, events, publisher, dealer, kafka_events
):
    job = await request_export(
        sessions,
        events,
        account_id=dealer.account_id,
        user_id=dealer.sam_id,
        conversation_id=uuid4(),
        since=None,
        until=None,
        time_zone=None,
    )
    connection = await asyncpg.connect(settings.database_url.replace("+asyncpg", ""))
    # As if Kafka had not acknowledged it: the relay's to publish.
    await connection.execute(
        "UPDATE exporter.export_jobs SET requested_published_at = NULL WHERE id = $1", job.id
    )
    slow_events = JobEvents(sessions, SlowKafka(publisher, 1.5), links, "https://x.test")
    relay = ExportOutboxRelay(sessions, slow_events, retry_after=timedelta(0))
    try:
        relaying = asyncio.create_task(relay.relay_once())
        await asyncio.sleep(0.5)  # the batch is taken; its first publish is waiting for Kafka
        assert not relaying.done()
        async with connection.transaction():
            # Raises LockNotAvailableError if the relay still held the row.
            locked = await connection.fetchval(
                "SELECT id FROM exporter.export_jobs WHERE id = $1 FOR UPDATE NOWAIT", job.id
            )
        assert locked == job.id
        assert await relaying >= 1
        marked = await connection.fetchval(
            "SELECT requested_published_at FROM exporter.export_jobs WHERE id = $1", job.id
        )
        assert marked is not None
    finally:
        await connection.close()
    assert len(await kafka_events(EXPORT_REQUESTED, job.id, at_least=2)) == 2
