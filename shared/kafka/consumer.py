"""Consumers that never lose a message and never crash the service.

A handler that fails is retried with backoff for a while (a database restart, a broker hiccup);
a message that can never be handled (bad JSON, a contract violation, a domain refusal) goes
straight to `<topic>.dlq` with the reason in its headers, and the consumer goes on. The original
bytes are kept untouched so a dead letter can be replayed."""

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import structlog
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.middlewares import AckPolicy
from pydantic import BaseModel, ValidationError
from tenacity import (
    AsyncRetrying,
    retry_if_not_exception_type,
    stop_after_delay,
    wait_exponential_jitter,
)

from shared.contracts.topics import TopicSpec
from shared.kafka.broker import EventPublisher
from shared.settings import ServiceSettings

log = structlog.get_logger(__name__)

EventT = TypeVar("EventT", bound=BaseModel)


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

    async def consume(message: KafkaMessage) -> None:
        record = message.raw_message
        try:
            async for attempt in AsyncRetrying(
                retry=retry_if_not_exception_type(_PERMANENT),
                stop=stop_after_delay(settings.kafka_handler_retry_seconds),
                wait=wait_exponential_jitter(initial=0.2, max=5),
                reraise=True,
            ):
                with attempt:
                    event = contract.model_validate_json(message.body)
                    await handler(event)
        except Exception as exc:
            await _dead_letter(publisher, spec, group, record, message, exc)

    broker.subscriber(
        topic,
        group_id=group,
        auto_offset_reset=auto_offset_reset,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        max_workers=max_workers,
        # `consume` parses the bytes itself: FastStream's own JSON decoding would fail outside
        # it on a body that is not JSON, and the message would come back forever.
        decoder=_raw_body,
        title=f"{group_id}:{spec.name}",
        description=spec.description,
    )(consume)


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
    message: Any,
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
    await publisher.publish(spec.dead_letter, message.body, key=key.decode(errors="replace"), headers=headers)
