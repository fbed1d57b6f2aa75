"""Kafka consumers for sending: requests from other systems, outcomes from notifier and carriers."""

from datetime import UTC, datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from routing.outbox import OutboxRelay
from routing.settings import RoutingSettings
from routing.usecases.outbound_status import record_carrier_status, record_outbound_status
from routing.usecases.outreach import send_requested
from shared.contracts.carrier import CarrierStatus
from shared.contracts.messaging import OutboundStatusChanged, SendRequested
from shared.contracts.topics import CARRIER_STATUS, MESSAGING_SEND_REQUESTED, SMS_OUTBOUND_STATUS
from shared.kafka.consumer import subscribe
from shared.service import Infrastructure

log = structlog.get_logger(__name__)


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
