"""Keeps the projection in step with every topic it is fed from. Each handler claims the event id
in the same transaction as its writes, so a redelivered or replayed event changes nothing."""

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from search import projection
from search.settings import SearchSettings
from shared.contracts.dms import DmsEvent
from shared.contracts.topics import (
    CONVERSATION_MERGED,
    CONVERSATION_STATUS_CHANGED,
    CUSTOMER_CHANGED,
    DMS_EVENTS,
    MESSAGE_RECEIVED,
    MESSAGE_SENT,
    TopicSpec,
)
from shared.db.idempotency import claim_event, claim_events
from shared.kafka.consumer import event_trace, subscribe, subscribe_batch
from shared.service import Infrastructure

GROUP_ID = "search"

Apply = Callable[[AsyncSession, Any], Awaitable[None]]


async def _apply_dms(session: AsyncSession, event: DmsEvent) -> None:
    await projection.apply_dms_event(session, event.root)


def event_id(event: Any):
    return event.root.event_id if isinstance(event, DmsEvent) else event.event_id


# Every topic the projection is built from, with what applies one event of it. The rebuild
# command replays exactly these.
FEEDS: dict[str, tuple[TopicSpec, Apply]] = {
    "search.message_received": (MESSAGE_RECEIVED, projection.apply_message_received),
    "search.message_sent": (MESSAGE_SENT, projection.apply_message_sent),
    "search.status_changed": (CONVERSATION_STATUS_CHANGED, projection.apply_status_changed),
    "search.customer_changed": (CUSTOMER_CHANGED, projection.apply_customer_changed),
    "search.conversation_merged": (CONVERSATION_MERGED, projection.apply_conversation_merged),
    "search.dms_event": (DMS_EVENTS, _apply_dms),
}


# The feeds that come with texts (a message, a new customer's profile, a conversation opened or
# closed), each taken by one consumer a batch per transaction: one Kafka consumer per topic in
# the process, where `consumer_workers` each cost their fetches twice a second even when nothing
# happens (search idle 12 -> ~7 ms of CPU a second). DMS records come in bursts from a sync, each
# applied on its own by `consumer_workers` consumers.
BATCHED = (MESSAGE_RECEIVED, MESSAGE_SENT, CONVERSATION_STATUS_CHANGED, CUSTOMER_CHANGED, CONVERSATION_MERGED)
# Appliers that take a batch's events in one round trip (the projection neither logs nor
# publishes per event, so the events' own traces have nothing to carry there).
_APPLY_TOGETHER: dict[Apply, Callable[[AsyncSession, list[Any]], Awaitable[None]]] = {
    projection.apply_message_received: projection.apply_messages,
    projection.apply_message_sent: projection.apply_messages,
}


async def handle(sessions: async_sessionmaker[AsyncSession], consumer: str, apply: Apply, event: Any) -> None:
    """Applies one event once: the claim and the writes commit together."""
    await handle_batch(sessions, consumer, apply, [event])


async def handle_batch(
    sessions: async_sessionmaker[AsyncSession], consumer: str, apply: Apply, events: list[Any]
) -> None:
    """Applies each event once, in order, in one transaction: the claims and the writes commit
    together (a failure rolls back the whole batch, whose events are then applied one by one)."""
    async with sessions.begin() as session:
        if len(events) == 1:
            with event_trace(events[0]):
                if await claim_event(session, "search", consumer, event_id(events[0])):
                    await apply(session, events[0])
            return
        # The batch's claims in one statement; an id seen before (or twice here) is applied once.
        claimed = await claim_events(session, "search", consumer, [event_id(event) for event in events])
        fresh = []
        for event in events:
            if event_id(event) in claimed:
                claimed.discard(event_id(event))
                fresh.append(event)
        if apply in _APPLY_TOGETHER:
            await _APPLY_TOGETHER[apply](session, fresh)
            return
        for event in fresh:
            with event_trace(event):
                await apply(session, event)


def register_consumers(infra: Infrastructure, settings: SearchSettings) -> None:
    for consumer, (spec, apply) in FEEDS.items():

        async def on_event(event: Any, consumer: str = consumer, apply: Apply = apply) -> None:
            await handle(infra.sessions, consumer, apply, event)

        async def on_events(events: list[Any], consumer: str = consumer, apply: Apply = apply) -> None:
            await handle_batch(infra.sessions, consumer, apply, events)

        if spec in BATCHED:
            # Many per transaction at the inbound rate (shared/kafka/consumer.py).
            subscribe_batch(
                infra.broker,
                infra.publisher,
                settings,
                spec,
                GROUP_ID,
                on_events,
                on_event,
                gather_up_to_seconds=settings.gather_up_to_seconds,
            )
            continue
        subscribe(
            infra.broker,
            infra.publisher,
            settings,
            spec,
            GROUP_ID,
            on_event,
            max_workers=settings.consumer_workers,
        )
