"""Kafka consumers for what `ingest` hands over from carriers."""

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from routing.outbox import OutboxRelay
from routing.settings import RoutingSettings
from routing.usecases.inbound import record_inbound_message
from shared.contracts.carrier import CarrierInbound
from shared.contracts.topics import CARRIER_INBOUND
from shared.kafka.consumer import subscribe
from shared.service import Infrastructure

log = structlog.get_logger(__name__)


def register_carrier_consumers(
    infra: Infrastructure,
    settings: RoutingSettings,
    sessions: async_sessionmaker[AsyncSession],
    relay: OutboxRelay,
) -> None:
    async def on_inbound(event: CarrierInbound) -> None:
        async with sessions.begin() as session:
            stored = await record_inbound_message(session, event, settings.default_phone_region)
        if stored:
            log.info(
                "inbound message stored",
                message_id=str(stored),
                carrier_message_id=event.carrier_message_id,
            )
            relay.wake()

    # One consumer per partition: while one message waits on PostgreSQL another is handled.
    # Each partition stays in order, and a conversation's texts share a key, hence a partition.
    subscribe(
        infra.broker,
        infra.publisher,
        settings,
        CARRIER_INBOUND,
        "routing",
        on_inbound,
        max_workers=settings.kafka_partitions,
    )
