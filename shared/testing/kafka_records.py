"""Reading what the services wrote to Kafka, as any consumer would, from a test."""

import asyncio
import uuid
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, ConsumerRecord


async def matching_records(
    bootstrap: str,
    topic: str,
    wanted: Callable[[ConsumerRecord], bool],
    count: int = 1,
    timeout: float = 30.0,
) -> list[ConsumerRecord]:
    """The first `count` records of `topic` (read from its start) for which `wanted` is true;
    fewer when `timeout` passes first, so the test's own assertion says what was missing."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=f"test-{uuid.uuid4()}"
    )
    await consumer.start()
    found: list[ConsumerRecord] = []
    try:
        async with asyncio.timeout(timeout):
            while len(found) < count:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    found += [record for record in records if wanted(record)]
    except TimeoutError:
        pass
    finally:
        await consumer.stop()
    return found[:count]


async def first_record(
    bootstrap: str, topic: str, wanted: Callable[[ConsumerRecord], bool], timeout: float = 30.0
) -> ConsumerRecord | None:
    found = await matching_records(bootstrap, topic, wanted, 1, timeout)
    return found[0] if found else None
