"""The account-wide live feed's writers: every conversation event of the account becomes small
stored changes, announced to open /api/v1/live streams; and the pruning of old changes.

A consumer group of its own ("notifier-live"): the feed neither waits for notification rules
nor replays their history, and it may start at the topics' end (see
`live_consumer_offset_reset`)."""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from notifier import live_events
from notifier.domain.live_changes import live_changes
from notifier.settings import NotifierSettings
from shared.contracts.base import Event, utc_now
from shared.contracts.topics import (
    CONVERSATION_ASSIGNED,
    CONVERSATION_MERGED,
    CONVERSATION_NOTE_ADDED,
    CONVERSATION_READ,
    CONVERSATION_STATUS_CHANGED,
    MESSAGE_DELIVERY_FAILED,
    MESSAGE_RECEIVED,
    MESSAGE_SENT,
    MESSAGE_STATUS_CHANGED,
)
from shared.db.engine import pooled_asyncpg_connection
from shared.kafka.consumer import subscribe, subscribe_batch
from shared.service import BackgroundJob, Infrastructure

log = structlog.get_logger(__name__)

LIVE_TOPICS = (
    MESSAGE_RECEIVED,
    MESSAGE_SENT,
    MESSAGE_STATUS_CHANGED,
    MESSAGE_DELIVERY_FAILED,
    CONVERSATION_ASSIGNED,
    CONVERSATION_NOTE_ADDED,
    CONVERSATION_STATUS_CHANGED,
    CONVERSATION_MERGED,
    CONVERSATION_READ,
)
# These come at the rate of texts: the waiting ones in one transaction (subscribe_batch).
_BUSY = (MESSAGE_RECEIVED, MESSAGE_SENT, MESSAGE_STATUS_CHANGED)
# Typing throttle rows older than this are of no use to the throttle.
_TYPING_KEPT = timedelta(minutes=1)


def register_live_consumers(infra: Infrastructure, settings: NotifierSettings) -> None:
    handle_batch = live_handler(infra.sessions, settings)

    async def handler(event: Event) -> None:
        await handle_batch([event])

    for spec in LIVE_TOPICS:
        if spec in _BUSY:
            subscribe_batch(
                infra.broker,
                infra.publisher,
                settings,
                spec,
                "notifier-live",
                handle_batch,
                handler,
                auto_offset_reset=settings.live_consumer_offset_reset,
            )
            continue
        subscribe(
            infra.broker,
            infra.publisher,
            settings,
            spec,
            "notifier-live",
            handler,
            auto_offset_reset=settings.live_consumer_offset_reset,
        )


def live_handler(
    sessions: async_sessionmaker[AsyncSession], settings: NotifierSettings
) -> Callable[[list[Event]], Awaitable[None]]:
    """Stores the changes of a batch of events (in their order) in one transaction."""
    retention = timedelta(hours=settings.live_retention_hours)
    engine: AsyncEngine = sessions.kw["bind"]

    async def on_conversation_changes(events: list[Event]) -> None:
        # Older than the window: pruned at once and news to nobody (a replayed topic, a backlog).
        oldest = utc_now() - retention
        recent = [event for event in events if event.occurred_at >= oldest]
        if not recent:
            return
        # Every change of the batch in one statement (lock, insert, announce), on the pool's
        # asyncpg connection: a session's begin, execute and commit cost more CPU than the
        # statement itself at the inbound rate (issue 17).
        async with pooled_asyncpg_connection(engine) as connection, connection.transaction():
            stored = await live_events.store_changes_on(
                connection,
                [(event.account_id, event.event_id, live_changes(event)) for event in recent],
                settings.live_channel,
            )
        log.debug("live changes stored", events=len(recent), count=sum(len(rows) for rows in stored))

    return on_conversation_changes


def pruning_job(sessions: async_sessionmaker[AsyncSession], settings: NotifierSettings) -> BackgroundJob:
    """Safe on every replica: a round another replica is doing is skipped."""
    retention = timedelta(hours=settings.live_retention_hours)

    async def prune_live_events(stop: asyncio.Event) -> None:
        while not stop.is_set():
            await prune_once(sessions, retention, settings.live_prune_batch)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=settings.live_prune_seconds)

    return prune_live_events


async def prune_once(sessions: async_sessionmaker[AsyncSession], retention: timedelta, batch: int) -> int:
    """Deletes every change older than `retention`, a batch per transaction; how many."""
    total = 0
    while True:
        async with sessions.begin() as session:
            deleted = await live_events.prune(session, retention, batch)
            if deleted is None:
                return total
            await live_events.forget_typing(session, _TYPING_KEPT)
        total += deleted
        if deleted < batch:
            if total:
                log.info("live changes pruned", count=total)
            return total
