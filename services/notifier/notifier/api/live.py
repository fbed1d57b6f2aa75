"""The account-wide live stream a web inbox page keeps open, and "is typing" presence. Both are
scoped to the caller's account: another account's changes and typists are never seen."""

from datetime import timedelta
from typing import Annotated
from uuid import UUID

import structlog
from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sse_starlette import EventSourceResponse

from notifier import live_events
from notifier.api.notifications import ERRORS, stream_ending
from notifier.api.staff import staff_dependency
from notifier.domain.live_changes import CHANGES
from notifier.email.directory import DirectoryUnavailable, UserDirectory, UserNotFound
from notifier.live import LiveHub
from notifier.live_feed import Caller, live_stream, parse_cursor
from notifier.settings import NotifierSettings
from shared.http.auth import Authenticated, Principal
from shared.http.errors import ERROR_RESPONSE_SCHEMA, ApiError
from shared.http.suspension import SuspendedAccounts

log = structlog.get_logger(__name__)

LIVE_DESCRIPTION = f"""Server-sent events for one open page: the caller's account and the caller.

* `conversation` — a conversation of the account changed; the page fetches it again. Data:
  `{{"conversation_id", "change", "message_id"?, "status"?, "user_id"?, "occurred_at"}}` where
  `change` is one of {", ".join(f"`{c}`" for c in CHANGES)}; `user_id` is who made the change
  (or whose read mark it is). A bulk assignment or note is one event per conversation.
* `notification` — the caller's own: `{{"change": "new", "notification": {{...as in the feed}},
  "unread": n}}`, or, without an id, `{{"change": "read", "read": {{"ids": [...]}} or
  {{"up_to_id": n}}, "unread": n}}` when marked read in another tab.
* `typing` — a colleague is typing: `{{"conversation_id", "user_id", "name"}}`; no id, never
  replayed.
* `ready` — the backlog has been sent. `resync` — the `Last-Event-ID` is older than the retention
  window (or unknown): reload what the page shows; the stream goes on from now.

Stored events (`conversation`, `notification`, `ready`, `resync`) have the id
`<change id>-<notification id>`; reconnect with `Last-Event-ID` to get everything missed since,
nothing twice. Without it the stream starts from now. Comments are sent as keep-alive pings.
The token goes in `Authorization: Bearer`, never in the URL; the user is checked again every few
minutes at most: the stream of a deactivated user ends, and reconnecting is refused with 401."""


class TypingSignal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversation_id: UUID = Field(description="The conversation the caller is replying in")


def live_router(
    settings: NotifierSettings,
    sessions: async_sessionmaker[AsyncSession],
    hub: LiveHub,
    directory: UserDirectory | None = None,
    suspended: SuspendedAccounts | None = None,
) -> APIRouter:
    """`directory`: routing's users, for typists' names and to close the streams of users
    deactivated while connected; without it a stream trusts its token until it disconnects."""
    router = APIRouter(prefix="/api/v1", tags=["live"])
    Staff = Annotated[Principal, Depends(staff_dependency(Authenticated(settings, suspended=suspended)))]
    typing_every = timedelta(seconds=settings.typing_every_seconds)

    @router.get(
        "/live",
        summary="The account's live changes and the caller's notifications (server-sent events)",
        description=LIVE_DESCRIPTION,
        responses={**ERRORS, 503: ERROR_RESPONSE_SCHEMA},
    )
    async def live(
        request: Request,
        caller: Staff,
        last_event_id: Annotated[str | None, Header(description="The id of the last event received")] = None,
    ) -> EventSourceResponse:
        ended = await stream_ending(request, directory, caller, settings.stream_user_check_seconds, suspended)

        events = live_stream(
            hub,
            sessions,
            Caller(caller.account_id, caller.user_id),
            parse_cursor(last_event_id),
            ended,
            check_seconds=min(5.0, float(settings.sse_ping_seconds)),
        )
        return EventSourceResponse(events, ping=settings.sse_ping_seconds)

    @router.post(
        "/presence/typing",
        status_code=204,
        summary="Tell the account's open pages that the caller is typing in a conversation",
        description="Sent as a `typing` event to every open /api/v1/live stream of the account but "
        "the caller's own; not stored. At most one per person and conversation every "
        f"{settings.typing_every_seconds:g} s is passed on; the others are accepted and dropped.",
        responses={**ERRORS, 422: ERROR_RESPONSE_SCHEMA},
    )
    async def typing(caller: Staff, signal: TypingSignal) -> Response:
        typing = {
            "conversation_id": str(signal.conversation_id),
            "user_id": str(caller.user_id),
            "name": await _name(directory, caller),
        }
        async with sessions.begin() as session:
            await live_events.announce_typing(
                session, settings.live_channel, caller.account_id, typing, caller.user_id, typing_every
            )
        return Response(status_code=204)

    return router


async def _name(directory: UserDirectory | None, caller: Principal) -> str | None:
    """The typist's display name from routing (cached); None when routing does not answer now,
    which should not stop the signal. A user routing no longer counts as staff is refused."""
    if directory is None:
        return None
    try:
        member = await directory.get(caller.account_id, caller.user_id)
    except UserNotFound as exc:
        raise ApiError(401, "unauthorized", "invalid or expired token") from exc
    except DirectoryUnavailable as exc:
        log.warning("typist's name unknown; routing did not answer", error=str(exc))
        return None
    if not member.active:
        raise ApiError(401, "unauthorized", "invalid or expired token")
    return member.name or None
