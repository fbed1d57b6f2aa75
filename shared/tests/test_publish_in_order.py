"""EventPublisher.publish_in_order (shared/kafka/broker.py) over the real broker: records straight
to the broker's own aiokafka producer keep the list's order per key, carry the trace headers of
what caused each (or the current trace when the record has none), are counted once per batch in
the service's registry, and a broker that is not connected is a PublishFailed, counted as an
error."""

import asyncio

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream.kafka import KafkaBroker
from opentelemetry import context as otel_context
from opentelemetry import propagate
from prometheus_client import CollectorRegistry

from shared.kafka.broker import EventPublisher, PublishFailed
from shared.settings import ServiceSettings
from shared.testing.infrastructure import kafka_bootstrap
from shared.testing.topic_prefixes import new_topic_prefix

CAUSE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
CURRENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


async def _read_all(bootstrap: str, topic: str, count: int) -> list:
    reader = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await reader.start()
    try:
        records: list = []
        async with asyncio.timeout(20):
            while len(records) < count:
                batch = await reader.getmany(timeout_ms=1000)
                records += [record for part in batch.values() for record in part]
        return records
    finally:
        await reader.stop()


async def test_records_keep_their_order_and_their_cause_trace_and_are_counted_per_batch():
    bootstrap = kafka_bootstrap()
    prefix = new_topic_prefix("tp")
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(f"{prefix}orders", 3, 1)])
    settings = ServiceSettings(
        service_name="publish-test", kafka_bootstrap_servers=bootstrap, kafka_topic_prefix=prefix
    )
    registry = CollectorRegistry()
    broker = KafkaBroker(bootstrap, acks="all", enable_idempotence=True)
    publisher = EventPublisher(broker, settings, registry)
    await broker.start()
    try:
        # Three keys interleaved, 30 records: each key's records must come back in list order.
        records = [
            ("orders", f'{{"n": {n}}}'.encode(), f"key{n % 3}", {"traceparent": CAUSE} if n % 2 else {})
            for n in range(30)
        ]
        token = otel_context.attach(propagate.extract({"traceparent": CURRENT}))
        try:
            await publisher.publish_in_order(records[:20])
            await publisher.publish_in_order(records[20:])
        finally:
            otel_context.detach(token)
        received = await _read_all(bootstrap, f"{prefix}orders", 30)
    finally:
        await broker.stop()
        await admin.delete_topics([f"{prefix}orders"])
        await admin.close()

    for key in ("key0", "key1", "key2"):
        sent = [body for _topic, body, k, _carrier in records if k == key]
        assert [r.value for r in received if r.key == key.encode()] == sent
    for record in received:
        headers = dict(record.headers)
        n = int(record.value.decode().split(": ")[1].rstrip("}"))
        assert headers["content-type"] == b"application/json"
        assert headers["traceparent"] == (CAUSE if n % 2 else CURRENT).encode()
    assert (
        registry.get_sample_value(
            "switchboard_kafka_published_records_total",
            {"destination": f"{prefix}orders", "status": "success"},
        )
        == 30
    )
    assert registry.get_sample_value("switchboard_kafka_publish_batch_seconds_count") == 2


async def test_a_broker_not_connected_is_a_publish_failure_counted_as_an_error():
    settings = ServiceSettings(
        service_name="publish-test", kafka_bootstrap_servers="127.0.0.1:1", kafka_publish_timeout_seconds=1
    )
    registry = CollectorRegistry()
    publisher = EventPublisher(KafkaBroker("127.0.0.1:1"), settings, registry)
    with pytest.raises(PublishFailed):
        await publisher.publish_in_order([("orders", b"{}", "k", {})])
    assert (
        registry.get_sample_value(
            "switchboard_kafka_published_records_total", {"destination": "orders", "status": "error"}
        )
        == 1
    )
