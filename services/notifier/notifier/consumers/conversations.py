"""Kafka consumers for conversation events."""

import structlog

from notifier.domain.messages import drafts_for_message
from notifier.repository import store_notifications
from notifier.settings import NotifierSettings
from shared.contracts.conversation import MessageReceived
from shared.contracts.topics import MESSAGE_RECEIVED
from shared.db.idempotency import claim_event
from shared.kafka.consumer import subscribe
from shared.service import Infrastructure

log = structlog.get_logger(__name__)


def register_conversation_consumers(infra: Infrastructure, settings: NotifierSettings) -> None:
    async def on_message_received(event: MessageReceived) -> None:
        async with infra.sessions.begin() as session:
            if not await claim_event(session, "notifier", "notifier.message_received", event.event_id):
                return
            stored = await store_notifications(
                session,
                event.account_id,
                event.event_id,
                drafts_for_message(event),
                settings.live_channel,
            )
        log.info("notifications stored", conversation_id=str(event.conversation_id), count=stored)

    subscribe(infra.broker, infra.publisher, settings, MESSAGE_RECEIVED, "notifier", on_message_received)
