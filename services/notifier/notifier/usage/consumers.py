"""Counting usage from the events notifier sees: its own `sms.outbound_status.v1` (a text the
carrier accepted: `sent`) and routing's `conversation.delivery_failed.v1` (once per undelivered
text). Each in a consumer group of its own, beside the notification rules; a row per message
id, so a status reported twice or an event replayed counts once."""

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier.domain.segments import segment
from notifier.settings import NotifierSettings
from notifier.usage import repository
from shared.contracts.conversation import DeliveryFailed
from shared.contracts.messaging import OutboundStatusChanged
from shared.contracts.topics import MESSAGE_DELIVERY_FAILED, SMS_OUTBOUND_STATUS
from shared.kafka.consumer import subscribe
from shared.service import Infrastructure

log = structlog.get_logger(__name__)

GROUP = "notifier-usage"


def usage_handlers(sessions: async_sessionmaker[AsyncSession]):
    async def on_outbound_status(event: OutboundStatusChanged) -> None:
        if event.status != "sent":
            return
        async with sessions.begin() as session:
            found = await repository.sent_text(session, event.message_id)
            if found is None:  # not a text this notifier sent: nothing to bill
                log.warning("sent status of an unknown text not counted", message_id=str(event.message_id))
                return
            body, with_media = found
            await repository.count_text_out(
                session,
                event.message_id,
                event.account_id,
                event.at or event.occurred_at,
                segment(body),
                with_media,
            )

    async def on_delivery_failed(event: DeliveryFailed) -> None:
        async with sessions.begin() as session:
            await repository.count_undelivered(
                session, event.message_id, event.account_id, event.occurred_at, event.error_category
            )

    return on_outbound_status, on_delivery_failed


def register_usage_consumers(infra: Infrastructure, settings: NotifierSettings) -> None:
    on_outbound_status, on_delivery_failed = usage_handlers(infra.sessions)
    subscribe(infra.broker, infra.publisher, settings, SMS_OUTBOUND_STATUS, GROUP, on_outbound_status)
    subscribe(infra.broker, infra.publisher, settings, MESSAGE_DELIVERY_FAILED, GROUP, on_delivery_failed)
