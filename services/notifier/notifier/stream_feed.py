"""The events one live stream sends: first what was missed since `Last-Event-ID`, then what
arrives, each notification once and in id order (one user's notifications commit in id order,
see repository.store_notifications)."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier import repository
from notifier.live import LiveHub

_PAGE = 500


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
    """Yields notifications (dicts), read marks (`{"read": ...}`, no id) and None once, when the
    backlog has been sent ("ready")."""

    async def from_table(after: int) -> AsyncIterator[dict]:
        while True:
            async with sessions() as session:
                page = await repository.notifications_after(session, account_id, user_id, after, _PAGE)
            for notification in page:
                after = notification["id"]
                yield notification
            if len(page) < _PAGE:
                return

    if last_event_id is None:
        # A fresh stream starts from now. Read before subscribing; the read of the table after
        # subscribing then covers whatever commits in between, so that gap loses nothing.
        async with sessions() as session:
            last_event_id = await repository.latest_id(session, account_id, user_id)
    last_sent = last_event_id
    with hub.stream(str(user_id)) as live:
        # Subscribed before reading the table, so nothing falls between the two.
        async for notification in from_table(last_sent):
            last_sent = notification["id"]
            yield notification
        yield None
        while not await is_disconnected():
            if live.behind:
                live.behind = False
                async for notification in from_table(last_sent):
                    last_sent = notification["id"]
                    yield notification
            while not live.queue.empty():
                notification = live.queue.get_nowait()
                if "read" in notification:
                    yield notification  # a read mark from another tab: not a notification
                    continue
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
