"""The events of one /api/v1/live stream: the account's conversation changes and the caller's own
notifications, first what was missed since `Last-Event-ID`, then what arrives; and typing
signals, which are never stored nor replayed.

Changes and notifications have an id space each (both grow in commit order for one account,
resp. one user), so an event's id is the pair `<change id>-<notification id>`: where the stream
stood in both when it sent the event. Resuming from it misses nothing and repeats nothing."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier import live_events, repository
from notifier.live import LiveHub

_PAGE = 500
_MAX_ID_DIGITS = 18


@dataclass
class Cursor:
    """Where a stream stands; moved forward as it sends."""

    change: int
    notification: int

    def __str__(self) -> str:
        return f"{self.change}-{self.notification}"


def parse_cursor(value: str | None) -> Cursor | None:
    """None for a missing or unreadable Last-Event-ID (the stream then starts from now)."""
    change, separator, notification = (value or "").strip().partition("-")
    parts = (change, notification)
    if not separator or not all(p.isdigit() and len(p) <= _MAX_ID_DIGITS for p in parts):
        return None
    return Cursor(int(change), int(notification))


@dataclass(frozen=True)
class Caller:
    account_id: UUID
    user_id: UUID


async def live_stream(
    hub: LiveHub,
    sessions: async_sessionmaker[AsyncSession],
    caller: Caller,
    resume: Cursor | None,
    is_disconnected: Callable[[], Awaitable[bool]],
    check_seconds: float,
) -> AsyncIterator[dict]:
    """Yields server-sent events (dicts for sse-starlette): `resync` when `resume` is too old to
    resume from, the backlog, `ready`, then what arrives until the client goes."""
    async with sessions() as session:
        newest_change, pruned = await live_events.position(session, caller.account_id)
        newest_notification = await repository.latest_id(session, caller.account_id, caller.user_id)
    now = Cursor(newest_change, newest_notification)
    # An id from before the retention window, or one this account never gave out (another
    # account's, another database's): what was missed cannot be told, the page must reload.
    resync = resume is not None and (
        resume.change < pruned or resume.change > now.change or resume.notification > now.notification
    )
    # A fresh stream starts from now. Read before subscribing; the read of the tables after
    # subscribing then covers whatever commits in between, so that gap loses nothing.
    cursor = Cursor(now.change, now.notification) if resume is None or resync else resume
    with hub.stream(str(caller.user_id), str(caller.account_id)) as live:
        if resync:
            yield _sse("resync", {"reason": "last_event_id_expired"}, cursor)
        async for event in _from_tables(sessions, caller, cursor):
            yield event
        yield _sse("ready", {}, cursor)
        while not await is_disconnected():
            if live.behind:
                live.behind = False
                async for event in _from_tables(sessions, caller, cursor):
                    yield event
            while not live.queue.empty():
                message = live.queue.get_nowait()
                event = await _from_queue(sessions, caller, message, cursor)
                if event is not None:
                    yield event
            if live.behind:
                continue
            live.wakeup.clear()
            if live.queue.empty() and not live.behind:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(live.wakeup.wait(), timeout=check_seconds)


async def _from_tables(
    sessions: async_sessionmaker[AsyncSession], caller: Caller, cursor: Cursor
) -> AsyncIterator[dict]:
    """What was stored after `cursor`: the account's changes, then the caller's notifications."""
    while True:
        async with sessions() as session:
            page = await live_events.changes_after(session, caller.account_id, cursor.change, _PAGE)
        for change in page:
            cursor.change = change["id"]
            yield _conversation(change, cursor)
        if len(page) < _PAGE:
            break
    while True:
        async with sessions() as session:
            page = await repository.notifications_after(
                session, caller.account_id, caller.user_id, cursor.notification, _PAGE
            )
            unread = await repository.unread_count(session, caller.account_id, caller.user_id) if page else 0
        for notification in page:
            cursor.notification = notification["id"]
            yield _notification(notification, unread, cursor)
        if len(page) < _PAGE:
            break


async def _from_queue(
    sessions: async_sessionmaker[AsyncSession], caller: Caller, message: dict, cursor: Cursor
) -> dict | None:
    """The event for one announcement, if any. Stored things already sent from a table (a replay
    or a catch-up) are skipped: never twice."""
    if "live" in message:
        change = message["live"]
        if change["id"] <= cursor.change:
            return None
        cursor.change = change["id"]
        return _conversation(change, cursor)
    if "typing" in message:
        typing = message["typing"]
        if typing["user_id"] == str(caller.user_id):
            return None  # the typist's own pages know
        return _sse("typing", typing, None)
    if "read" in message:
        # Marked read in another tab: no id, a read mark does not move Last-Event-ID.
        read = {"change": "read", "read": message["read"], "unread": await _unread(sessions, caller)}
        return _sse("notification", read, None)
    if message["id"] <= cursor.notification:
        return None
    cursor.notification = message["id"]
    return _notification(message, await _unread(sessions, caller), cursor)


async def _unread(sessions: async_sessionmaker[AsyncSession], caller: Caller) -> int:
    async with sessions() as session:
        return await repository.unread_count(session, caller.account_id, caller.user_id)


def _conversation(change: dict, cursor: Cursor) -> dict:
    return _sse("conversation", {key: value for key, value in change.items() if key != "id"}, cursor)


def _notification(notification: dict, unread: int, cursor: Cursor) -> dict:
    return _sse("notification", {"change": "new", "notification": notification, "unread": unread}, cursor)


def _sse(name: str, data: dict, cursor: Cursor | None) -> dict:
    event = {"event": name, "data": json.dumps(data)}
    if cursor is not None:
        event["id"] = str(cursor)
    return event
