"""start_broker (shared/kafka/broker.py) over the real broker: every consumer group is joined at
once rather than one after the other (aiokafka's start of a subscribed consumer waits for its
group's assignment), and every subscriber then consumes."""

import asyncio

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream.kafka import KafkaBroker

from shared.kafka.broker import start_broker
from shared.testing.infrastructure import kafka_bootstrap
from shared.testing.topic_prefixes import new_topic_prefix

GROUPS = 6


async def test_every_group_is_joined_at_once_and_every_subscriber_consumes():
    bootstrap = kafka_bootstrap()
    prefix = new_topic_prefix("ts")
    topics = [f"{prefix}topic{n}" for n in range(GROUPS)]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(topic, 1, 1) for topic in topics])
    await admin.close()

    broker = KafkaBroker(bootstrap)
    received: dict[str, asyncio.Event] = {topic: asyncio.Event() for topic in topics}

    def handler_of(topic: str):
        async def handle(body: dict) -> None:
            received[topic].set()

        return handle

    for topic in topics:
        broker.subscriber(topic, group_id=f"{topic}.group", auto_offset_reset="earliest")(handler_of(topic))

    # Which subscribers are inside their start (joining their group) at the same moment.
    joining, most_at_once = set(), 0
    for subscriber in broker.subscribers:
        start = subscriber.start

        async def recorded_start(start=start, subscriber=subscriber) -> None:
            nonlocal most_at_once
            joining.add(subscriber)
            most_at_once = max(most_at_once, len(joining))
            try:
                await start()
            finally:
                joining.discard(subscriber)

        subscriber.start = recorded_start

    await start_broker(broker)
    try:
        assert most_at_once == GROUPS, f"only {most_at_once} groups were joined at once"
        assert broker.running
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
        await producer.start()
        for topic in topics:
            await producer.send_and_wait(topic, b'{"hello": 1}')
        await producer.stop()
        async with asyncio.timeout(30):
            for topic in topics:
                await received[topic].wait()
    finally:
        await broker.stop()
