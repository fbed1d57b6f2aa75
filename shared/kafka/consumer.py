"""Consumers that never lose a message and never crash the service.

A handler that fails is retried with backoff for a while (a broker hiccup), and for as long as it
takes while what fails is a dependency that cannot be reached (the database restarting, a
colleague service down: shared/unavailable.py), since that says nothing about the message;
a message that can never be handled (bad JSON, a contract violation, a domain refusal) goes
straight to `<topic>.dlq` with the reason in its headers, and the consumer goes on. The original
bytes are kept untouched so a dead letter can be replayed."""

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextvars import ContextVar
from typing import Annotated, Any, TypeVar

import structlog
from aiokafka import TopicPartition
from aiokafka.structs import OffsetAndMetadata
from faststream._internal.context import Context  # the class; faststream.Context is a factory
from faststream.kafka import KafkaBroker
from faststream.kafka.message import KafkaMessage as _KafkaMessage
from faststream.middlewares import AckPolicy
from opentelemetry import context as otel_context
from opentelemetry import propagate
from pydantic import BaseModel, ValidationError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_not_exception_type,
    stop_after_delay,
    wait_exponential_jitter,
)

from shared.contracts.topics import TopicSpec
from shared.kafka.batch_gathering import BatchGathering, gather_batches
from shared.kafka.broker import EventPublisher
from shared.settings import ServiceSettings
from shared.unavailable import dependency_unavailable

log = structlog.get_logger(__name__)

EventT = TypeVar("EventT", bound=BaseModel)


class _InTheEventLoop(Context):
    """FastStream's `Context`, resolved in the event loop: fast_depends runs a custom field's
    synchronous `use` in anyio's worker threads, so every message (every batch) handed to a handler
    taking FastStream's `KafkaMessage` paid a hop to a thread and back (~5 % of notifier's CPU)
    to look up a context variable."""

    async def use(self, /, **kwargs: Any) -> dict[str, Any]:
        return super().use(**kwargs)


# The message FastStream is handling (a record, or a batch's records), as its `KafkaMessage`.
KafkaMessage = Annotated[_KafkaMessage, _InTheEventLoop("message")]


class PermanentError(Exception):
    """The message can never be handled as it is; it belongs in the dead-letter topic."""


_PERMANENT = (PermanentError, ValidationError, json.JSONDecodeError, UnicodeDecodeError)


def subscribe(
    broker: KafkaBroker,
    publisher: EventPublisher,
    settings: ServiceSettings,
    spec: TopicSpec,
    group_id: str,
    handler: Callable[[EventT], Awaitable[Any]],
    *,
    auto_offset_reset: str = "earliest",
    max_workers: int = 1,
) -> None:
    """Registers `handler` for `spec`'s topic in consumer group `group_id`. `max_workers` > 1 runs
    that many consumers of the group in this process, each handling its own partitions in order."""
    contract: type[EventT] = spec.contract
    topic = publisher.topic(spec)
    group = consumer_group(settings, group_id, spec)
    offsets = OffsetCommitter(settings.kafka_commit_interval_seconds)

    async def consume(message: KafkaMessage) -> None:
        record = message.raw_message
        try:
            try:
                try:
                    # The first attempt without the retry machinery (a tenacity loop per message
                    # costs more than many handlers): almost every message succeeds at once.
                    await handler(contract.model_validate_json(message.body))
                except _PERMANENT:
                    raise
                except Exception:
                    async for attempt in _patiently(settings):
                        with attempt:
                            await handler(contract.model_validate_json(message.body))
            except Exception as exc:
                await _dead_letter(publisher, spec, group, record, message.body, exc)
        except BaseException:
            # Not even dead-lettered (or the consumer is stopping): rewind to this record so it
            # comes back; nothing after it is committed.
            await message.nack()
            raise
        await offsets.handled(message.consumer, record)

    broker.subscriber(
        topic,
        group_id=group,
        auto_offset_reset=auto_offset_reset,
        # Offsets are committed by `offsets`, after handling, a batch at a time.
        ack_policy=AckPolicy.MANUAL,
        max_workers=max_workers,
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
        # `consume` parses the bytes itself: FastStream's own JSON decoding would fail outside
        # it on a body that is not JSON, and the message would come back forever.
        decoder=_raw_body,
        title=f"{group_id}:{spec.name}",
        description=spec.description,
    )(consume)


def subscribe_batch(
    broker: KafkaBroker,
    publisher: EventPublisher,
    settings: ServiceSettings,
    spec: TopicSpec,
    group_id: str,
    handle_batch: Callable[[list[EventT]], Awaitable[Any]],
    handle_one: Callable[[EventT], Awaitable[Any]],
    *,
    max_records: int = 200,
    auto_offset_reset: str = "earliest",
    gather_seconds: float = 0,
    gather_up_to_seconds: float | None = None,
) -> None:
    """Like `subscribe`, for a topic that comes at the inbound rate: the records waiting in the
    group's partitions are taken together (at most `max_records`) and `handle_batch` gets their
    events in partition order, to apply in one transaction (one BEGIN/COMMIT, one pooled
    connection, one offset commit for many messages instead of one each). Handlers stay
    idempotent per event id, as for `subscribe`.

    The batch runs in a trace of its own: the handler wraps each event's work in
    `event_trace(event)` so its logs and what it publishes stay in the trace the event came with.

    If the batch fails (a domain refusal, a database error), nothing of it was committed and each
    of its events goes through `handle_one` in order, with `subscribe`'s retries and dead letters:
    a message that can never be handled still costs only itself. A record that is not even a
    valid event is dead-lettered first and left out of the batch. One consumer per process takes
    every partition it is given (FastStream runs batch subscribers alone); the batch replaces
    `max_workers` as the way to have many messages in flight.

    `gather_seconds` > 0, for a consumer nobody waits on (counting, say): the broker holds each
    fetch until that long has passed or a few hundred KB of records are waiting, so batches are
    that much larger (fewer transactions) and a record may wait that much longer. Otherwise
    `settings.kafka_batch_gather_ms` > 0: after the first records come, the consumer waits that
    long and adds what has arrived meanwhile, and while records come steadily, up to
    `gather_up_to_seconds` (default `settings.kafka_batch_gather_max_ms`) for a fuller batch
    (`BatchGathering`): a consumer on no one's critical path (search's index) waits longer."""
    contract: type[EventT] = spec.contract
    topic = publisher.topic(spec)
    group = consumer_group(settings, group_id, spec)
    offsets = OffsetCommitter(settings.kafka_commit_interval_seconds)
    one = _one_by_one(publisher, settings, spec, group, handle_one)

    async def consume(message: KafkaMessage) -> None:
        records = message.raw_message if isinstance(message.raw_message, tuple) else (message.raw_message,)
        try:
            parsed: list[tuple[Any, EventT]] = []
            for record in records:
                try:
                    parsed.append((record, contract.model_validate_json(record.value)))
                except _PERMANENT as exc:
                    await _dead_letter(publisher, spec, group, record, record.value, exc)
            if parsed:
                with _batch_traces(parsed):
                    try:
                        await handle_batch([event for _, event in parsed])
                    except Exception as exc:
                        log.info(
                            "batch failed; handling its messages one by one",
                            topic=spec.name,
                            size=len(parsed),
                            reason=f"{type(exc).__name__}: {exc}"[:300],
                        )
                        for record, event in parsed:
                            with event_trace(event):
                                await one(record, event)
        except BaseException:
            await message.nack()  # each partition of the batch rewound to its first record
            raise
        for record in records[:-1]:
            offsets.note(message.consumer, record)
        if records:
            await offsets.handled(message.consumer, records[-1])

    subscriber = broker.subscriber(
        topic,
        group_id=group,
        auto_offset_reset=auto_offset_reset,
        ack_policy=AckPolicy.MANUAL,
        batch=True,
        max_records=max_records,
        **(
            {"fetch_min_bytes": 256 * 1024, "fetch_max_wait_ms": int(gather_seconds * 1000)}
            if gather_seconds > 0
            else {"fetch_max_wait_ms": settings.kafka_fetch_max_wait_ms}
        ),
        decoder=_raw_body,
        title=f"{group_id}:{spec.name}",
        description=spec.description,
    )
    subscriber(consume)
    if gather_seconds <= 0 and settings.kafka_batch_gather_ms > 0:
        gather_batches(subscriber, BatchGathering.from_settings(settings, max_records, gather_up_to_seconds))


# Inside a batch handler: the trace context each event's record carried, by the event's id.
_BATCH_TRACES: ContextVar[dict[int, dict[str, str]] | None] = ContextVar("batch_traces", default=None)
_TRACE_HEADERS = frozenset({"traceparent", "tracestate", "baggage"})


@contextlib.contextmanager
def _batch_traces(parsed: Sequence[tuple[Any, Any]]) -> Iterator[None]:
    traces = {
        id(event): {
            key: value.decode("latin-1")
            for key, value in (getattr(record, "headers", None) or ())
            if key in _TRACE_HEADERS and isinstance(value, bytes)
        }
        for record, event in parsed
    }
    token = _BATCH_TRACES.set(traces)
    try:
        yield
    finally:
        _BATCH_TRACES.reset(token)


@contextlib.contextmanager
def event_trace(event: Any) -> Iterator[None]:
    """In a `subscribe_batch` handler, wrap each event's work (and its log lines) in this: the
    trace of the request that caused the event is the current one again, so its logs carry that
    trace id and what it writes to an outbox carries it on (a batch as a whole has a trace of
    its own). Outside a batch, or for a record without trace headers, it changes nothing."""
    carrier = (_BATCH_TRACES.get() or {}).get(id(event))
    if not carrier:
        yield
        return
    token = otel_context.attach(propagate.extract(carrier))
    try:
        yield
    finally:
        otel_context.detach(token)


def _one_by_one(
    publisher: EventPublisher,
    settings: ServiceSettings,
    spec: TopicSpec,
    group: str,
    handler: Callable[[EventT], Awaitable[Any]],
) -> Callable[[Any, EventT], Awaitable[None]]:
    async def handle(record: Any, event: EventT) -> None:
        try:
            async for attempt in _patiently(settings):
                with attempt:
                    await handler(event)
        except Exception as exc:
            await _dead_letter(publisher, spec, group, record, record.value, exc)

    return handle


class OffsetCommitter:
    """Commits handled records' offsets at most every `interval` seconds per consumer, instead of
    one commit round trip to the broker after every message (which each consumer awaited before
    taking its next message). Only offsets of records already handled are committed, so the
    guarantee stays at-least-once: after a crash or a rebalance, up to `interval` seconds of
    handled messages come again, and the handlers are idempotent (claim_event).

    A commit never holds up the handling of the next messages: with an interval it runs in the
    background, and any commit gives up after `timeout` seconds. After a broker restart aiokafka's
    commit can wait for the group coordinator indefinitely (a chaos run saw search's consumer
    wait inside `commit` for minutes, handling nothing, while the coordinator was back); the
    offsets it was carrying go with the next commit instead."""

    def __init__(self, interval: float, timeout: float = 10.0) -> None:
        self._interval = interval
        self._timeout = timeout
        self._pending: dict[Any, dict[TopicPartition, OffsetAndMetadata]] = {}
        self._last: dict[Any, float] = {}
        self._scheduled: set[Any] = set()
        # One commit at a time, so an older set of offsets never lands after a newer one.
        self._lock = asyncio.Lock()

    def note(self, consumer: Any, record: Any) -> None:
        """`record` is handled; its offset goes with the next commit."""
        pending = self._pending.setdefault(consumer, {})
        pending[TopicPartition(record.topic, record.partition)] = OffsetAndMetadata(record.offset + 1, "")

    async def handled(self, consumer: Any, record: Any) -> None:
        self.note(consumer, record)
        if self._interval <= 0:
            await self.commit(consumer)
        elif time.monotonic() - self._last.get(consumer, 0.0) >= self._interval and not self._lock.locked():
            self._last[consumer] = time.monotonic()
            _in_background(self.commit(consumer))
        elif consumer not in self._scheduled:
            # Messages may stop coming (or a commit is under way): what was handled is
            # committed shortly all the same.
            self._scheduled.add(consumer)
            asyncio.get_running_loop().call_later(self._interval, self._commit_later, consumer)

    def _commit_later(self, consumer: Any) -> None:
        self._scheduled.discard(consumer)
        if self._pending.get(consumer):
            _in_background(self.commit(consumer))

    async def commit(self, consumer: Any) -> None:
        async with self._lock:
            offsets = self._pending.pop(consumer, None)
            self._last[consumer] = time.monotonic()
            if not offsets:
                return
            try:
                await asyncio.wait_for(consumer.commit(offsets), self._timeout)
            except TimeoutError:
                # Newer offsets noted meanwhile win over these.
                self._pending[consumer] = {**offsets, **self._pending.get(consumer, {})}
                log.warning("offset commit timed out; retried with the next one", seconds=self._timeout)
            except Exception as exc:  # rebalanced or stopping: the records come again, idempotently
                log.info("offset commit skipped", reason=f"{type(exc).__name__}: {exc}"[:300])


def _in_background(work: Awaitable[None]) -> None:
    task = asyncio.ensure_future(work)
    _background.add(task)
    task.add_done_callback(_background.discard)


# Keeps delayed commits alive until they finish (the event loop holds tasks only weakly).
_background: set[asyncio.Task] = set()


def _patiently(settings: ServiceSettings) -> AsyncRetrying:
    """A handler's retries: never for a permanent error, for as long as a dependency is down, and
    otherwise up to the configured deadline, with jittered backoff."""
    return AsyncRetrying(
        retry=retry_if_not_exception_type(_PERMANENT),
        stop=_stop_unless_unavailable(settings.kafka_handler_retry_seconds),
        wait=wait_exponential_jitter(multiplier=0.2, max=5),
        reraise=True,
    )


def _stop_unless_unavailable(retry_seconds: float):
    """Stops retrying after `retry_seconds`, except while the failure is a dependency that cannot
    be reached (shared/unavailable.py): then the message waits, and the consumer with it, since no other
    message could be handled either. Dead-lettering it would take it out of the inbox."""
    deadline_passed = stop_after_delay(retry_seconds)

    def stop(state: RetryCallState) -> bool:
        if not deadline_passed(state):
            return False
        failure = state.outcome.exception() if state.outcome else None
        if failure is not None and dependency_unavailable(failure):
            if state.attempt_number % 10 == 0:
                log.warning(
                    "handler waiting for a dependency",
                    attempts=state.attempt_number,
                    reason=f"{type(failure).__name__}: {failure}"[:300],
                )
            return False
        return True

    return stop


def consumer_group(settings: ServiceSettings, service: str, spec: TopicSpec) -> str:
    """One group per service and topic, under the environment's topic prefix: a service adding a
    subscription does not rebalance its other consumers, and two environments (or test runs)
    sharing a cluster never share a group."""
    return f"{settings.kafka_topic_prefix}{service}.{spec.name}"


async def _raw_body(message: Any) -> bytes:
    return message.body


async def _dead_letter(
    publisher: EventPublisher,
    spec: TopicSpec,
    group_id: str,
    record: Any,
    body: bytes,
    exc: Exception,
) -> None:
    reason = f"{type(exc).__name__}: {exc}"[:2000]
    log.warning(
        "message dead-lettered",
        topic=spec.name,
        group_id=group_id,
        partition=getattr(record, "partition", None),
        offset=getattr(record, "offset", None),
        reason=reason,
    )
    key = getattr(record, "key", None) or b""
    headers = {
        "x-dead-letter-reason": reason,
        "x-dead-letter-error": type(exc).__name__,
        "x-original-topic": publisher.topic(spec),
        "x-original-partition": str(getattr(record, "partition", "")),
        "x-original-offset": str(getattr(record, "offset", "")),
        "x-consumer-group": group_id,
    }
    # If even this fails the exception propagates, the offset is not committed and Kafka
    # redelivers the message later: still nothing lost.
    await publisher.publish(spec.dead_letter, body, key=key.decode(errors="replace"), headers=headers)
