"""The events of one /api/v1/live stream: the account's conversation changes and the caller's own
notifications, first what was missed since `Last-Event-ID`, then what arrives; and typing
signals, which are never stored nor replayed.

A busy dealership makes hundreds of changes a second, so the stream sends in batches: what
waits in the stream's queue goes out as one write, and a catch-up sends a page of the table per
write. The unread count each notification carries is kept by the stream (see `Unread`), not
counted again per notification: counting reads every unread row, and a busy person has many.
Each event keeps its own id, so batching changes nothing for Last-Event-ID.

Changes and notifications have an id space each (both grow in commit order for one account,
resp. one user), so an event's id is the pair `<change id>-<notification id>`: where the stream
stood in both when it sent the event. Resuming from it misses nothing and repeats nothing."""

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sse_starlette import ServerSentEvent

from notifier import live_events, repository
from notifier.live import LiveHub, LiveStream

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


@dataclass
class Unread:
    """The caller's unread count, current without counting per notification: a notification
    announced with an id past the newest one counted is new, so unread: one more (one user's
    notifications commit in id order). Counted again after a read mark, for each page of a
    catch-up, and when older than `fresh_seconds` (a read mark dropped by a full queue, or
    anything else not announced, is wrong that long at most)."""

    fresh_seconds: float
    count: int = 0
    through_id: int = 0
    counted_at: float | None = None

    def stale(self) -> bool:
        return self.counted_at is None or time.monotonic() - self.counted_at > self.fresh_seconds

    async def recount(self, session: AsyncSession, caller: "Caller") -> None:
        self.count, self.through_id = await repository.unread_position(
            session, caller.account_id, caller.user_id
        )
        self.counted_at = time.monotonic()

    def with_new(self, notification_id: int) -> int:
        """The count once the notification `notification_id` is sent."""
        if notification_id > self.through_id:
            self.count += 1
            self.through_id = notification_id
        return self.count


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
) -> AsyncIterator[bytes]:
    """Yields writes of server-sent events (bytes for sse-starlette, one or more events each):
    `resync` when `resume` is too old to resume from, the backlog, `ready`, then what arrives
    until the client goes."""
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
    unread = Unread(fresh_seconds=check_seconds)
    with hub.stream(str(caller.user_id), str(caller.account_id)) as live:
        if resync:
            yield _write([_sse("resync", {"reason": "last_event_id_expired"}, cursor)])
        async for write in _from_tables(sessions, caller, cursor, unread):
            yield write
        yield _write([_sse("ready", {}, cursor)])
        while not await is_disconnected():
            if live.behind:
                live.behind = False
                async for write in _from_tables(sessions, caller, cursor, unread):
                    yield write
            if not live.queue.empty():
                if write := await _from_queue(sessions, caller, _waiting(live), cursor, unread):
                    yield write
                continue  # more may have arrived meanwhile (or the queue overflowed)
            live.wakeup.clear()
            if live.queue.empty() and not live.behind:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(live.wakeup.wait(), timeout=check_seconds)


def _waiting(live: LiveStream) -> list[dict]:
    """Everything in the stream's queue now (at most its size: a batch stays bounded)."""
    messages = []
    while not live.queue.empty():
        messages.append(live.queue.get_nowait())
    return messages


async def _from_tables(
    sessions: async_sessionmaker[AsyncSession], caller: Caller, cursor: Cursor, unread: Unread
) -> AsyncIterator[bytes]:
    """What was stored after `cursor`, a page per write: the account's changes, then the
    caller's notifications."""
    while True:
        async with sessions() as session:
            page = await live_events.changes_after(session, caller.account_id, cursor.change, _PAGE)
        events = []
        for change in page:
            cursor.change = change["id"]
            events.append(_conversation(change, cursor))
        if events:
            yield _write(events)
        if len(page) < _PAGE:
            break
    while True:
        async with sessions() as session:
            page = await repository.notifications_after(
                session, caller.account_id, caller.user_id, cursor.notification, _PAGE
            )
            if page:
                await unread.recount(session, caller)
        events = []
        for notification in page:
            cursor.notification = notification["id"]
            events.append(_notification(notification, unread.with_new(notification["id"]), cursor))
        if events:
            yield _write(events)
        if len(page) < _PAGE:
            break


async def _from_queue(
    sessions: async_sessionmaker[AsyncSession],
    caller: Caller,
    messages: list[dict],
    cursor: Cursor,
    unread: Unread,
) -> bytes:
    """The events of a batch of announcements, in their order, as one write (empty: nothing to
    send). Stored things already sent from a table (a replay or a catch-up) are skipped: never
    twice. A count needed (after a read mark, or a stale one) is read before the batch's events
    are made: everything in the batch committed before (announcements come on commit)."""
    new = any(_is_notification(m) and m["id"] > cursor.notification for m in messages)
    if any("read" in m for m in messages) or (new and unread.stale()):
        async with sessions() as session:
            await unread.recount(session, caller)
    events = []
    for message in messages:
        if "live" in message:
            change = message["live"]
            if change["id"] > cursor.change:
                cursor.change = change["id"]
                events.append(_conversation(change, cursor))
        elif "typing" in message:
            typing = message["typing"]
            if typing["user_id"] != str(caller.user_id):  # the typist's own pages know
                events.append(_sse("typing", typing, None))
        elif "read" in message:
            # Marked read in another tab: no id, a read mark does not move Last-Event-ID.
            events.append(
                _sse(
                    "notification", {"change": "read", "read": message["read"], "unread": unread.count}, None
                )
            )
        elif message["id"] > cursor.notification:
            cursor.notification = message["id"]
            events.append(_notification(message, unread.with_new(message["id"]), cursor))
    return _write(events)


def _is_notification(message: dict) -> bool:
    return not ("live" in message or "typing" in message or "read" in message)


def _conversation(change: dict, cursor: Cursor) -> ServerSentEvent:
    return _sse("conversation", {key: value for key, value in change.items() if key != "id"}, cursor)


def _notification(notification: dict, unread: int, cursor: Cursor) -> ServerSentEvent:
    return _sse("notification", {"change": "new", "notification": notification, "unread": unread}, cursor)


def _sse(name: str, data: dict, cursor: Cursor | None) -> ServerSentEvent:
    return ServerSentEvent(json.dumps(data), event=name, id=None if cursor is None else str(cursor))


def _write(events: list[ServerSentEvent]) -> bytes:
    """Several events in one write: one send to the socket instead of one per event."""
    return b"".join(event.encode() for event in events)
