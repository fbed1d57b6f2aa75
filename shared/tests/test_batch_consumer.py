"""subscribe_batch (shared/kafka/consumer.py) over the real broker: waiting records are handled
together in partition order, each once; a record that is not an event is dead-lettered alone; a
batch that fails is handled again one by one, so only the message that can never be handled is
dead-lettered and the others are applied once."""

import asyncio

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream.kafka import KafkaBroker
from pydantic import BaseModel

from shared.contracts.topics import TopicSpec
from shared.kafka.broker import EventPublisher
from shared.kafka.consumer import PermanentError, subscribe_batch
from shared.settings import ServiceSettings
from shared.testing.infrastructure import kafka_bootstrap
from shared.testing.topic_prefixes import new_topic_prefix

REFUSED = 13


class Ping(BaseModel):
    event_id: str
    n: int


async def test_batches_in_order_once_each_with_bad_records_dead_lettered_alone():
    bootstrap = kafka_bootstrap()
    prefix = new_topic_prefix("tb")
    spec = TopicSpec(name="ping.v1", contract=Ping, description="test pings", key="n")
    settings = ServiceSettings(
        kafka_bootstrap_servers=bootstrap, kafka_topic_prefix=prefix, kafka_commit_interval_seconds=0.2
    )
    topic, dead = f"{prefix}ping.v1", f"{prefix}ping.v1.dlq"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(name, 1, 1) for name in (topic, dead)])

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    for n in range(30):
        await producer.send_and_wait(topic, Ping(event_id=f"e{n}", n=n).model_dump_json().encode(), key=b"k")
        if n == 5:
            await producer.send_and_wait(topic, b"not json", key=b"k")
    await producer.stop()

    applied: list[int] = []
    batch_sizes: list[int] = []
    all_applied = asyncio.Event()

    async def handle_batch(events: list[Ping]) -> None:
        batch_sizes.append(len(events))
        if any(event.n == REFUSED for event in events):
            raise ValueError("one of them is refused")  # as a rolled-back transaction: nothing kept
        applied.extend(event.n for event in events)
        if len(applied) >= 29:
            all_applied.set()

    async def handle_one(event: Ping) -> None:
        if event.n == REFUSED:
            raise PermanentError("refused")
        applied.append(event.n)
        if len(applied) >= 29:
            all_applied.set()

    broker = KafkaBroker(bootstrap)
    subscribe_batch(
        broker, EventPublisher(broker, settings), settings, spec, "test", handle_batch, handle_one
    )
    await broker.start()
    try:
        async with asyncio.timeout(30):
            await all_applied.wait()
        dead_letters = AIOKafkaConsumer(dead, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
        await dead_letters.start()
        try:
            records = []
            async with asyncio.timeout(15):
                while len(records) < 2:
                    batch = await dead_letters.getmany(timeout_ms=500)
                    records += [r for rs in batch.values() for r in rs]
        finally:
            await dead_letters.stop()
    finally:
        await broker.stop()
        await admin.delete_topics([topic, dead])
        await admin.close()

    assert applied == [n for n in range(30) if n != REFUSED]  # once each, in partition order
    assert max(batch_sizes) > 1
    assert sorted(r.value for r in records) == sorted(
        [b"not json", Ping(event_id="e13", n=13).model_dump_json().encode()]
    )
    reasons = {r.value: dict(r.headers)["x-dead-letter-error"] for r in records}
    assert reasons[b"not json"] == b"ValidationError"
    assert reasons[Ping(event_id="e13", n=13).model_dump_json().encode()] == b"PermanentError"


def test_each_event_of_a_batch_is_handled_in_the_trace_its_record_carried():
    """A batch has a trace of its own; event_trace puts each event's back, for its logs and
    the outbox rows it writes (routing's outbox copies the current trace into its records)."""
    from types import SimpleNamespace

    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    from shared.kafka.consumer import _batch_traces, event_trace

    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    traced = SimpleNamespace(headers=[("traceparent", f"00-{trace_id}-00f067aa0ba902b7-01".encode())])
    untraced = SimpleNamespace(headers=[("content-type", b"application/json")])
    first, second = Ping(event_id="a", n=1), Ping(event_id="b", n=2)

    def current() -> str:
        return format(trace.get_current_span().get_span_context().trace_id, "032x")

    with TracerProvider().get_tracer("test").start_as_current_span("the batch's own span"):
        batch_trace = current()
        with _batch_traces([(traced, first), (untraced, second)]):
            with event_trace(first):
                assert current() == trace_id
            assert current() == batch_trace
            with event_trace(second):
                assert current() == batch_trace  # no trace headers: nothing changes
        with event_trace(first):
            assert current() == batch_trace  # outside a batch: nothing changes


class _FetchingConsumer:
    """What `BatchGathering` asks of aiokafka's consumer: `getmany`, here answered from a list
    of fetches (each what the fetcher holds by then), or failing."""

    def __init__(self, *fetches, error=None):
        self.fetches, self.error, self.asked = list(fetches), error, []

    async def getmany(self, timeout_ms, max_records):
        self.asked.append((timeout_ms, max_records))
        if self.error:
            raise self.error
        return self.fetches.pop(0) if self.fetches else {}


def _subscriber():
    from types import SimpleNamespace

    async def get_msg(_consumer):  # FastStream's own fetch, replaced
        raise AssertionError("FastStream's fetch sleeps 200 ms when nothing came")

    return SimpleNamespace(get_msg=get_msg)


async def test_a_batch_gathers_the_records_that_arrive_right_behind_its_first():
    """KAFKA_BATCH_GATHER_MS: what the fetcher holds after the wait joins the batch, after the
    first records (so each partition's order holds); a full batch does not wait; a consumer that
    fails meanwhile (stopping, rebalancing) leaves the batch as it was; with nothing fetched the
    batch is empty at once (FastStream's loop asks again)."""
    from types import SimpleNamespace

    from shared.kafka.batch_gathering import IDLE_FETCH_MS, BatchGathering, gather_batches

    first, second, third = (SimpleNamespace(offset=n) for n in range(3))

    def gathering(max_records=10):
        return BatchGathering(least=0.001, most=0, target=32, max_records=max_records)

    quick = _subscriber()
    gather_batches(quick, gathering())
    consumer = _FetchingConsumer({"p0": [first]}, {"p0": [second], "p1": [third]})
    assert await quick.get_msg(consumer) == (first, second, third)
    assert consumer.asked == [(IDLE_FETCH_MS, 10), (0, 9)]

    full = _subscriber()
    gather_batches(full, gathering(max_records=2))
    consumer = _FetchingConsumer({"p0": [first], "p1": [second]}, {"p0": [third]})
    assert await full.get_msg(consumer) == (first, second)
    assert consumer.asked == [(IDLE_FETCH_MS, 2)]

    class Stopping(_FetchingConsumer):
        async def getmany(self, timeout_ms, max_records):
            if self.asked:
                raise RuntimeError("consumer stopped")
            return await super().getmany(timeout_ms, max_records)

    stopping = _subscriber()
    gather_batches(stopping, gathering())
    assert await stopping.get_msg(Stopping({"p0": [first]})) == (first,)

    empty = _subscriber()
    gather_batches(empty, gathering())
    consumer = _FetchingConsumer({}, {"p0": [third]})
    assert await empty.get_msg(consumer) == ()
    assert consumer.asked == [(IDLE_FETCH_MS, 10)]


async def test_at_a_steady_rate_a_batch_waits_for_its_target_or_its_deadline():
    """KAFKA_BATCH_GATHER_MAX_MS and KAFKA_BATCH_TARGET_RECORDS: once the last second brought
    enough records, a batch takes what arrives until it holds the target (and then at once) or
    its deadline passes; while records are few, it waits only KAFKA_BATCH_GATHER_MS."""
    import asyncio
    import time
    from types import SimpleNamespace

    from shared.kafka.batch_gathering import BatchGathering, gather_batches

    records = [SimpleNamespace(offset=n) for n in range(10)]
    gathering = BatchGathering(least=0.001, most=0.2, target=4, max_records=100)
    subscriber = _subscriber()
    gather_batches(subscriber, gathering)

    # Quiet so far (nothing in the last second): the short wait, one look at the fetcher.
    consumer = _FetchingConsumer({"p0": [records[0]]}, {"p0": [records[1]]}, {"p0": [records[2]]})
    assert await subscriber.get_msg(consumer) == (records[0], records[1])
    assert consumer.asked[1:] == [(0, 99)]

    # Twenty records in the last second, 0.2 s of waiting brings four: fetches are taken until
    # the batch holds its target, in order, without waiting for the deadline.
    gathering.took(asyncio.get_running_loop().time(), 18)
    consumer = _FetchingConsumer(
        {"p0": [records[2]]}, {"p0": [records[3]]}, {"p1": [records[4], records[5]]}, {"p0": [records[6]]}
    )
    started = time.monotonic()
    assert await subscriber.get_msg(consumer) == tuple(records[2:6])
    assert time.monotonic() - started < 0.1
    assert [max_records for _, max_records in consumer.asked[1:]] == [99, 98]
    assert all(0 < timeout_ms <= 200 for timeout_ms, _ in consumer.asked[1:])

    # Nothing more arrives: the batch leaves at its deadline with what it has.
    started = time.monotonic()
    assert await subscriber.get_msg(_FetchingConsumer({"p0": [records[7]]})) == (records[7],)
    assert time.monotonic() - started >= 0.19


def test_a_consumer_nobody_waits_on_may_gather_longer_than_the_setting():
    from shared.kafka.batch_gathering import BatchGathering
    from shared.settings import ServiceSettings

    settings = ServiceSettings(kafka_batch_gather_ms=15, kafka_batch_gather_max_ms=50)
    assert BatchGathering.from_settings(settings, 200).most == 0.05
    assert BatchGathering.from_settings(settings, 200, 0.25).most == 0.25
    # Never less than the short wait; the target never past the batch's room.
    assert BatchGathering.from_settings(settings, 200, 0).most == 0.015
    assert BatchGathering.from_settings(settings, 10).target == 10


async def test_handlers_get_their_message_without_a_hop_to_a_worker_thread(monkeypatch):
    """FastStream's message is handed to `subscribe`'s and `subscribe_batch`'s handlers from the
    event loop: fast_depends runs a synchronous context lookup in a worker thread, which cost a
    thread hop per message."""
    import fast_depends.utils

    from shared.kafka.consumer import subscribe

    hops: list[object] = []
    original = fast_depends.utils.run_in_threadpool

    async def counted(func, *args, **kwargs):
        hops.append(func)
        return await original(func, *args, **kwargs)

    monkeypatch.setattr(fast_depends.utils, "run_in_threadpool", counted)
    bootstrap = kafka_bootstrap()
    prefix = new_topic_prefix("th")
    one_spec = TopicSpec(name="one.v1", contract=Ping, description="test pings", key="n")
    many_spec = TopicSpec(name="many.v1", contract=Ping, description="test pings", key="n")
    settings = ServiceSettings(kafka_bootstrap_servers=bootstrap, kafka_topic_prefix=prefix)
    topics = [f"{prefix}one.v1", f"{prefix}many.v1"]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(name, 1, 1) for name in topics])
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    for topic in topics:
        for n in range(3):
            await producer.send_and_wait(
                topic, Ping(event_id=f"e{n}", n=n).model_dump_json().encode(), key=b"k"
            )
    await producer.stop()

    handled: list[int] = []
    done = asyncio.Event()

    async def handle_one(event: Ping) -> None:
        handled.append(event.n)
        if len(handled) == 6:
            done.set()

    async def handle_batch(events: list[Ping]) -> None:
        for event in events:
            await handle_one(event)

    broker = KafkaBroker(bootstrap)
    publisher = EventPublisher(broker, settings)
    subscribe(broker, publisher, settings, one_spec, "test", handle_one)
    subscribe_batch(broker, publisher, settings, many_spec, "test", handle_batch, handle_one)
    await broker.start()
    try:
        async with asyncio.timeout(30):
            await done.wait()
    finally:
        await broker.stop()
        await admin.delete_topics(topics)
        await admin.close()
    assert sorted(handled) == [0, 0, 1, 1, 2, 2]
    assert hops == []
