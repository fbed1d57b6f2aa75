"""Builds the FastStream broker every service uses, with tracing and metrics middleware."""

import asyncio
import logging
from collections.abc import Sequence

from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from opentelemetry import context as otel_context
from opentelemetry import propagate
from opentelemetry.trace import TracerProvider
from prometheus_client import CollectorRegistry

from shared.contracts.base import Event
from shared.contracts.topics import TopicSpec
from shared.kafka.topics import topic_name
from shared.settings import ServiceSettings

# (topic, body, key, trace carrier): one record of a batch for EventPublisher.publish_in_order;
# the carrier holds the trace context (W3C headers) of whatever caused the record, or is empty.
OrderedRecord = tuple["TopicSpec | str", bytes, str, dict[str, str]]


class PublishFailed(Exception):
    """Kafka did not acknowledge a write in time; the caller must not report success."""


def build_broker(
    settings: ServiceSettings, tracer_provider: TracerProvider, registry: CollectorRegistry
) -> KafkaBroker:
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=settings.service_name,
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=int(settings.kafka_publish_timeout_seconds * 1000),
        graceful_timeout=settings.shutdown_grace_seconds,
        # One line per consumed message is debugging detail, not an operational log.
        log_level=logging.DEBUG,
        middlewares=(
            KafkaTelemetryMiddleware(tracer_provider=tracer_provider),
            KafkaPrometheusMiddleware(registry=registry, app_name=settings.service_name),
        ),
    )


async def start_broker(broker: KafkaBroker) -> None:
    """`broker.start()` with the consumer groups joined all at once. FastStream starts its
    subscribers one after the other, and aiokafka's start of a subscribed consumer waits until
    its group has handed it partitions: a service with thirty groups (notifier) waited for thirty
    rebalances in a row, each as long as a departed member's session or the broker's initial
    rebalance delay, so a restarted replica took a minute or more to be ready."""
    await broker.connect()
    await asyncio.gather(*(subscriber.start() for subscriber in broker.subscribers))
    for publisher in broker.publishers:
        await publisher.start()
    broker.running = True


class EventPublisher:
    """Publishes contract events and waits for Kafka's acknowledgement, within a deadline."""

    def __init__(self, broker: KafkaBroker, settings: ServiceSettings) -> None:
        self._broker = broker
        self._settings = settings

    def topic(self, spec: TopicSpec | str) -> str:
        return topic_name(self._settings, spec if isinstance(spec, str) else spec.name)

    async def publish(
        self,
        spec: TopicSpec | str,
        event: Event | bytes,
        key: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        body = event if isinstance(event, bytes) else event.to_bytes()
        try:
            await asyncio.wait_for(
                self._broker.publish(
                    body,
                    self.topic(spec),
                    key=key.encode(),
                    headers={"content-type": "application/json", **(headers or {})},
                ),
                timeout=self._settings.kafka_publish_timeout_seconds,
            )
        except Exception as exc:
            raise PublishFailed(f"publish to {self.topic(spec)} failed: {exc!r}") from exc

    async def publish_in_order(self, records: Sequence[OrderedRecord]) -> None:
        """Publishes `records` in their order and waits for every acknowledgement, within one
        deadline. Each record is handed to the producer before the next (so per-partition order
        is the list's order) without waiting for its ack: a batch costs about one round trip to
        the broker, not one per record. Any failure raises PublishFailed; records before it may
        have been written (callers are at-least-once anyway)."""
        if not records:
            return
        deadline = self._settings.kafka_publish_timeout_seconds

        async def send_all() -> None:
            acks = []
            for spec, body, key, carrier in records:
                token = otel_context.attach(propagate.extract(carrier))
                try:
                    acks.append(
                        await self._broker.publish(
                            body,
                            self.topic(spec),
                            key=key.encode(),
                            headers={"content-type": "application/json"},
                            no_confirm=True,
                        )
                    )
                finally:
                    otel_context.detach(token)
            await asyncio.gather(*acks)

        try:
            await asyncio.wait_for(send_all(), timeout=deadline)
        except Exception as exc:
            raise PublishFailed(f"publish of {len(records)} records failed: {exc!r}") from exc
