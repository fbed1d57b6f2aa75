"""Kafka consumers for texts: inbound texts that `ingest` hands over from carriers, send requests
from other systems, and outcomes from notifier and carriers."""

from datetime import UTC, datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from routing.messaging.usecases.inbound_batch import record_inbound_batch
from routing.messaging.usecases.outbound_status import record_carrier_status, record_outbound_status
from routing.messaging.usecases.outreach import send_requested
from routing.outbox import OutboxRelay
from routing.settings import RoutingSettings
from shared.contracts.carrier import CarrierInbound, CarrierStatus
from shared.contracts.messaging import OutboundStatusChanged, SendRequested
from shared.contracts.topics import (
    CARRIER_INBOUND,
    CARRIER_STATUS,
    MESSAGING_SEND_REQUESTED,
    SMS_OUTBOUND_STATUS,
)
from shared.kafka.consumer import event_trace, subscribe, subscribe_batch
from shared.service import Infrastructure

log = structlog.get_logger(__name__)


def register_carrier_consumers(
    infra: Infrastructure,
    settings: RoutingSettings,
    sessions: async_sessionmaker[AsyncSession],
    relay: OutboxRelay,
) -> None:
    async def on_inbound(event: CarrierInbound) -> None:
        await on_inbound_batch([event])

    async def on_inbound_batch(events: list[CarrierInbound]) -> None:
        # In partition order, in one transaction: a conversation's texts share a key, hence a
        # partition, so they are stored in the order they came. A failing batch is rolled back
        # and its texts handled one by one (shared/kafka/consumer.py).
        async with sessions.begin() as session:
            stored = await record_inbound_batch(session, events, settings.default_phone_region)
        for event, message_id in zip(events, stored, strict=True):
            if message_id:
                with event_trace(event):
                    log.info(
                        "inbound message stored",
                        message_id=str(message_id),
                        carrier_message_id=event.carrier_message_id,
                    )
        if any(stored):
            relay.wake()

    # Texts come at the inbound rate: the waiting ones are stored together.
    subscribe_batch(
        infra.broker, infra.publisher, settings, CARRIER_INBOUND, "routing", on_inbound_batch, on_inbound
    )


def register_messaging_consumers(
    infra: Infrastructure,
    settings: RoutingSettings,
    sessions: async_sessionmaker[AsyncSession],
    relay: OutboxRelay,
) -> None:
    async def on_send_requested(event: SendRequested) -> None:
        async with sessions.begin() as session:
            result = await send_requested(session, event, settings.default_phone_region, datetime.now(UTC))
        log.info(
            "send request handled",
            request_id=event.request_id,
            message_id=str(result.message_id),
            created=result.created,
        )
        if result.created:
            relay.wake()

    async def on_outbound_status(event: OutboundStatusChanged) -> None:
        async with sessions.begin() as session:
            moved = await record_outbound_status(session, event)
        if moved:
            relay.wake()  # a failure may have added conversation.delivery_failed.v1

    async def on_carrier_status(event: CarrierStatus) -> None:
        async with sessions.begin() as session:
            moved = await record_carrier_status(session, event)
        if moved:
            relay.wake()

    subscribe(infra.broker, infra.publisher, settings, MESSAGING_SEND_REQUESTED, "routing", on_send_requested)
    subscribe(infra.broker, infra.publisher, settings, SMS_OUTBOUND_STATUS, "routing", on_outbound_status)
    subscribe(infra.broker, infra.publisher, settings, CARRIER_STATUS, "routing", on_carrier_status)
