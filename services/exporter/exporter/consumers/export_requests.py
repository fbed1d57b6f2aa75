"""Kafka side: `export.requested.v1` → render (retries, dead-letter and idempotency: see
shared.kafka.consumer.subscribe and ExportRunner)."""

from exporter.usecases.run_export import ExportRunner
from shared.contracts.topics import EXPORT_REQUESTED
from shared.kafka.consumer import subscribe
from shared.service import Infrastructure


def register_export_consumer(infra: Infrastructure, runner: ExportRunner) -> None:
    subscribe(infra.broker, infra.publisher, infra.settings, EXPORT_REQUESTED, "exporter", runner.handle)
