"""Keeps the projection in step with conversation events."""

from search.repository import index_message
from shared.contracts.conversation import MessageReceived
from shared.contracts.topics import MESSAGE_RECEIVED
from shared.db.idempotency import claim_event
from shared.kafka.consumer import subscribe
from shared.service import Infrastructure
from shared.settings import ServiceSettings


def register_conversation_consumers(infra: Infrastructure, settings: ServiceSettings) -> None:
    async def on_message_received(event: MessageReceived) -> None:
        async with infra.sessions.begin() as session:
            if await claim_event(session, "search", "search.message_received", event.event_id):
                await index_message(session, event)

    subscribe(infra.broker, infra.publisher, settings, MESSAGE_RECEIVED, "search", on_message_received)
