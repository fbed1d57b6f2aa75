"""The caller's own notifications: the feed, the unread count, marking read, and the live
stream. Every route is scoped to the caller (account and user): someone else's notification id
is answered exactly like one that does not exist."""

import json
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import structlog
from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sse_starlette import EventSourceResponse

from notifier import repository
from notifier.api.staff import staff_dependency
from notifier.email.directory import DirectoryUnavailable, UserDirectory, UserNotFound
from notifier.live import LiveHub
from notifier.settings import NotifierSettings
from notifier.stream_feed import notification_stream, parse_last_event_id
from shared.http.auth import Authenticated, Principal
from shared.http.errors import ERROR_RESPONSE_SCHEMA, ApiError
from shared.http.suspension import SuspendedAccounts

MAX_ID = 2**63 - 1

log = structlog.get_logger(__name__)


class Notification(BaseModel):
    id: int = Field(description="Increases with time; the SSE event id")
    kind: str = Field(
        description="message_received, conversation_assigned, mentioned or delivery_failed",
        examples=["conversation_assigned"],
    )
    title: str
    body: str = Field(description="A preview of the message, the assignment note, the failure reason…")
    data: dict[str, Any] = Field(
        description="Ids to link to: conversation_id (or conversation_ids and count for a bulk "
        "assignment), message_id, note, actor_name, error_category and reason…"
    )
    created_at: datetime
    read_at: datetime | None = Field(description="When the caller marked it read; null while unread")


class NotificationPage(BaseModel):
    items: list[Notification]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next (older) page; null on the last"
    )


class UnreadCount(BaseModel):
    unread: int = Field(description="The caller's unread notifications")


class MarkAllRead(BaseModel):
    model_config = ConfigDict(extra="forbid")

    up_to_id: int | None = Field(
        None,
        ge=1,
        le=MAX_ID,
        description="Only notifications up to this id (the newest the client has shown), so one "
        "that arrived meanwhile stays unread; all of them when omitted",
    )


class MarkedRead(BaseModel):
    marked: int = Field(description="How many notifications changed from unread to read")
    unread: int = Field(description="The caller's unread notifications afterwards")


ERRORS = {401: ERROR_RESPONSE_SCHEMA, 403: ERROR_RESPONSE_SCHEMA}


def _cursor(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or len(value) > 18 or int(value) < 1:
        raise ApiError(400, "invalid_cursor", "the cursor is not one this API returned", {"cursor": value})
    return int(value)


class StaffCheck:
    """Whether a stream's user is still active staff, asked of routing's user directory at most
    every `every` seconds: a token stays valid for hours, a deactivated user's stream must not.
    Routing not answering leaves the stream open (its next check may succeed): closing every
    stream on a routing blip would only make every client reconnect at once."""

    def __init__(
        self,
        directory: UserDirectory,
        account_id: UUID,
        user_id: UUID,
        every: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._directory = directory
        self._account_id = account_id
        self._user_id = user_id
        self._every = every
        self._clock = clock
        self._next = clock() + every

    async def still_active(self) -> bool:
        try:
            member = await self._directory.get(self._account_id, self._user_id)
        except UserNotFound:
            return False
        return member.active

    async def revoked(self) -> bool:
        """True once the user is deactivated or gone; checks only when one is due."""
        if self._clock() < self._next:
            return False
        self._next = self._clock() + self._every
        try:
            return not await self.still_active()
        except DirectoryUnavailable as exc:
            log.warning("stream user not re-checked; routing did not answer", error=str(exc))
            return False


async def checked_stream_user(
    directory: UserDirectory | None, caller: Principal, every: float
) -> StaffCheck | None:
    """The check a stream repeats while open, after refusing a user who is no longer active
    staff (401) or cannot be checked now (503); None without a directory."""
    if directory is None:
        return None
    check = StaffCheck(directory, caller.account_id, caller.user_id, every)
    try:
        active = await check.still_active()
    except DirectoryUnavailable as exc:
        raise ApiError(
            503, "auth_unavailable", "your access cannot be checked right now; try again shortly"
        ) from exc
    if not active:
        raise ApiError(401, "unauthorized", "invalid or expired token")
    return check


async def stream_ending(
    request: Request,
    directory: UserDirectory | None,
    caller: Principal,
    every: float,
    suspended: SuspendedAccounts | None = None,
) -> Callable[[], Awaitable[bool]]:
    """What an open stream asks before each wait: has the client gone, the user stopped being
    active staff, or their dealership been suspended? (Refuses at once a user who already has.)"""
    check = await checked_stream_user(directory, caller, every)

    async def ended() -> bool:
        if await request.is_disconnected():
            return True
        if suspended is not None and await suspended.contains(caller.account_id):
            log.info("live stream of a suspended dealership closed", account_id=str(caller.account_id))
            return True
        if check is not None and await check.revoked():
            log.info("live stream of a deactivated user closed", user_id=str(caller.user_id))
            return True
        return False

    return ended


def notifications_router(
    settings: NotifierSettings,
    sessions: async_sessionmaker[AsyncSession],
    hub: LiveHub,
    directory: UserDirectory | None = None,
    suspended: SuspendedAccounts | None = None,
) -> APIRouter:
    """`directory`: routing's users, to close the streams of users deactivated while connected
    (and refuse their reconnection); without it a stream trusts its token until it disconnects."""
    router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])
    # A suspended dealership's staff are refused (the projection of notifier.suspension).
    Caller = Annotated[Principal, Depends(staff_dependency(Authenticated(settings, suspended=suspended)))]
    StreamCaller = Annotated[
        Principal,
        Depends(staff_dependency(Authenticated(settings, allow_query_token=True, suspended=suspended))),
    ]

    @router.get(
        "",
        response_model=NotificationPage,
        summary="The caller's notifications, newest first",
        responses={**ERRORS, 400: ERROR_RESPONSE_SCHEMA},
    )
    async def feed(
        caller: Caller,
        limit: int = Query(50, ge=1, le=200, description="Page size"),
        cursor: str | None = Query(None, description="`next_cursor` of the previous page"),
        unread: bool = Query(False, description="Only unread notifications"),
    ) -> NotificationPage:
        before = _cursor(cursor)
        async with sessions() as session:
            rows = await repository.feed_page(
                session, caller.account_id, caller.user_id, limit + 1, before, unread
            )
        page, more = rows[:limit], len(rows) > limit
        return NotificationPage(
            items=[Notification(**row) for row in page],
            next_cursor=str(page[-1]["id"]) if more else None,
        )

    @router.get("/unread-count", response_model=UnreadCount, summary="How many are unread", responses=ERRORS)
    async def unread_count(caller: Caller) -> UnreadCount:
        async with sessions() as session:
            return UnreadCount(
                unread=await repository.unread_count(session, caller.account_id, caller.user_id)
            )

    @router.post(
        "/{notification_id}/read",
        response_model=Notification,
        summary="Mark one notification read",
        description="Marking one that is already read changes nothing (its first read time stays).",
        responses={**ERRORS, 404: ERROR_RESPONSE_SCHEMA},
    )
    async def mark_read(
        caller: Caller, notification_id: Annotated[int, Path(ge=1, le=MAX_ID)]
    ) -> Notification:
        async with sessions.begin() as session:
            row = await repository.mark_read(session, caller.account_id, caller.user_id, notification_id)
            if row is not None:
                await repository.announce_read(
                    session, settings.live_channel, caller.user_id, {"ids": [notification_id]}
                )
        if row is None:
            raise ApiError(404, "not_found", "notification not found")
        return Notification(**row)

    @router.post(
        "/read-all",
        response_model=MarkedRead,
        summary="Mark all of the caller's notifications read",
        responses={**ERRORS, 422: ERROR_RESPONSE_SCHEMA},
    )
    async def mark_all_read(caller: Caller, body: Annotated[MarkAllRead | None, Body()] = None) -> MarkedRead:
        async with sessions.begin() as session:
            up_to = body.up_to_id if body else None
            marked = await repository.mark_all_read(session, caller.account_id, caller.user_id, up_to)
            if marked:
                await repository.announce_read(
                    session, settings.live_channel, caller.user_id, {"up_to_id": up_to or MAX_ID}
                )
            unread = await repository.unread_count(session, caller.account_id, caller.user_id)
        return MarkedRead(marked=marked, unread=unread)

    @router.get(
        "/stream",
        summary="Live notifications (server-sent events)",
        description="Each event's id is the notification id and its name the notification kind; "
        "a `ready` event follows the backlog. Reconnect with `Last-Event-ID` to get everything "
        "missed since, nothing twice. A `read` event (no id) tells that the caller marked "
        'notifications read elsewhere: `{"ids": [...]}` or `{"up_to_id": n}`. EventSource '
        "clients may pass `?access_token=`. The user is checked again every few minutes at most: "
        "the stream of a deactivated user ends, and reconnecting is refused with 401.",
        responses={**ERRORS, 503: ERROR_RESPONSE_SCHEMA},
    )
    async def stream(
        request: Request,
        caller: StreamCaller,
        last_event_id: Annotated[str | None, Header(description="The id of the last event received")] = None,
    ) -> EventSourceResponse:
        ended = await stream_ending(request, directory, caller, settings.stream_user_check_seconds, suspended)

        async def events():
            async for notification in notification_stream(
                hub,
                sessions,
                caller.account_id,
                caller.user_id,
                parse_last_event_id(last_event_id),
                ended,
                check_seconds=min(5.0, float(settings.sse_ping_seconds)),
            ):
                if notification is None:
                    yield {"event": "ready", "data": "{}"}
                elif "read" in notification:
                    # No id: a read mark does not move the client's Last-Event-ID.
                    yield {"event": "read", "data": json.dumps(notification["read"])}
                else:
                    yield _event(notification)

        return EventSourceResponse(events(), ping=settings.sse_ping_seconds)

    return router


def _event(notification: dict) -> dict:
    return {
        "id": str(notification["id"]),
        "event": notification["kind"],
        "data": json.dumps(notification),
    }
