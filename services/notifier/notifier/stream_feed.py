"""The events one live stream sends: first what was missed since `Last-Event-ID`, then what
arrives, each notification once and in id order."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier import repository
from notifier.live import LiveHub


def parse_last_event_id(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) < 19 else None


async def notification_stream(
    hub: LiveHub,
    sessions: async_sessionmaker[AsyncSession],
    account_id: UUID,
    user_id: UUID,
    last_event_id: int | None,
    is_disconnected: Callable[[], Awaitable[bool]],
    check_seconds: float,
) -> AsyncIterator[dict | None]:
    """Yields notifications (dicts) and None once, when the backlog has been sent ("ready")."""
    with hub.stream(str(user_id)) as live:
        # Subscribed before reading the table, so nothing falls between the two.
        async with sessions() as session:
            if last_event_id is None:
                last_sent = await repository.latest_id(session, account_id, user_id)
                missed = []
            else:
                last_sent = last_event_id
                missed = await repository.notifications_after(session, account_id, user_id, last_sent)
        for notification in missed:
            last_sent = notification["id"]
            yield notification
        yield None
        while not await is_disconnected():
            if live.behind:
                live.behind = False
                async with sessions() as session:
                    missed = await repository.notifications_after(session, account_id, user_id, last_sent)
                for notification in missed:
                    last_sent = notification["id"]
                    yield notification
            while not live.queue.empty():
                notification = live.queue.get_nowait()
                # Already sent from the table (a replay or a catch-up): never twice.
                if notification["id"] > last_sent:
                    last_sent = notification["id"]
                    yield notification
            if live.behind:
                continue
            live.wakeup.clear()
            if live.queue.empty() and not live.behind:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(live.wakeup.wait(), timeout=check_seconds)
