"""Builds the FastStream broker every service uses, with tracing and metrics middleware."""

import asyncio
import logging

from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from opentelemetry.trace import TracerProvider
from prometheus_client import CollectorRegistry

from shared.contracts.base import Event
from shared.contracts.topics import TopicSpec
from shared.kafka.topics import topic_name
from shared.settings import ServiceSettings


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
