"""The staff inbox: list, count, read and unread, assign, close and reopen conversations (one or
in bulk), and their timeline. Every route is scoped to the caller's account: an id of another account is
answered exactly like an id that does not exist."""

from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from routing.conversations import counts, queries
from routing.conversations.models import (
    AssignmentResult,
    AssignRequest,
    BulkStatusRequest,
    BulkStatusResult,
    ConversationCounts,
    ConversationPage,
    ConversationSummary,
    MessageView,
    NoteRequest,
    NoteView,
    ReadMark,
    TimelineItem,
    TimelinePage,
    summary_from_row,
)
from routing.conversations.usecases.assign import Assignee, assign
from routing.conversations.usecases.errors import (
    ConversationsNotFound,
    InvalidAssignee,
    StatusConflict,
    TooManyConversations,
)
from routing.conversations.usecases.notes import add_note
from routing.conversations.usecases.read import mark_read, mark_unread
from routing.conversations.usecases.status import change_status, change_statuses
from routing.cursors import InvalidCursor
from routing.domain.inbox import InboxFilter, InvalidView, ReadFilter, Status, View, Viewer
from shared.http.auth import Authenticated, Principal
from shared.http.errors import ERROR_RESPONSE_SCHEMA, ApiError

# Service tokens have no user: read flags are computed for nobody.
SERVICE_READER = UUID(int=0)


# --- helpers ----------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _not_found(exc: ConversationsNotFound) -> ApiError:
    return ApiError(
        404,
        "not_found",
        "conversation not found",
        {"conversation_ids": [str(i) for i in exc.ids]},
    )


def _inbox_filter(view: str, status: Status, read: list[ReadFilter]) -> InboxFilter:
    try:
        return InboxFilter(View.parse(view), status, frozenset(read))
    except InvalidView as exc:
        raise ApiError(422, "invalid_request", str(exc), [{"loc": ["query", "view"]}]) from exc


NOT_FOUND = {404: ERROR_RESPONSE_SCHEMA}
VIEW_QUERY = Query(
    "all",
    description="`mine` (assigned to me or a team I am in), `all`, `unassigned` (no user and no "
    "team), `user:<uuid>` or `team:<uuid>`",
    pattern=r"^(mine|all|unassigned|user:[0-9a-fA-F-]{36}|team:[0-9a-fA-F-]{36})$",
)
STATUS_QUERY = Query(
    "open", description="open (default), closed, archived, or all (open and closed; not archived)"
)
READ_QUERY = Query(
    default_factory=list,
    description="Repeatable: read, unread, unanswered; several at once show their union",
)


def conversations_router(
    sessions: async_sessionmaker[AsyncSession],
    auth: Authenticated,
    on_events: Callable[[], None] = lambda: None,
) -> APIRouter:
    """`on_events` runs after a commit that wrote outbox rows (wakes the relay)."""
    router = APIRouter(prefix="/api/v1/conversations", tags=["conversations"])

    async def current_viewer(principal: Annotated[Principal, Depends(auth)]) -> Viewer:
        if principal.role not in ("admin", "agent"):
            raise ApiError(403, "forbidden", "staff only")
        async with sessions() as session:
            return await queries.viewer_for(
                session, principal.account_id, principal.user_id, principal.is_admin
            )

    async def current_reader(principal: Annotated[Principal, Depends(auth)]) -> Viewer:
        """Staff, or another service of the platform reading on the account's behalf (exporter
        fetching a transcript): read-only routes accept both."""
        if principal.role == "service":
            return Viewer(principal.account_id, SERVICE_READER, is_admin=False)
        return await current_viewer(principal)

    Caller = Annotated[Viewer, Depends(current_viewer)]
    Reader = Annotated[Viewer, Depends(current_reader)]

    @router.get(
        "",
        response_model=ConversationPage,
        summary="List conversations, latest activity first",
        description="One page of the inbox for the chosen view and filters; pass `next_cursor` as "
        "`cursor` for the next page.",
        responses={422: ERROR_RESPONSE_SCHEMA},
    )
    async def list_conversations(
        caller: Caller,
        view: str = VIEW_QUERY,
        status: Status = STATUS_QUERY,
        read: list[ReadFilter] = READ_QUERY,
        cursor: str | None = Query(None, description="`next_cursor` of the previous page"),
        limit: int = Query(50, ge=1, le=200),
    ) -> ConversationPage:
        inbox_filter = _inbox_filter(view, status, read)
        now = _now()
        async with sessions() as session:
            try:
                rows, next_cursor = await queries.list_conversations(
                    session, caller, inbox_filter, limit, cursor
                )
            except InvalidCursor as exc:
                raise ApiError(422, "invalid_cursor", str(exc)) from exc
        return ConversationPage(
            items=[summary_from_row(row, caller, now) for row in rows], next_cursor=next_cursor
        )

    @router.get(
        "/counts",
        response_model=ConversationCounts,
        summary="Count conversations per view and filter",
        description="The numbers next to each choice of the view, status and read menus.",
        responses={422: ERROR_RESPONSE_SCHEMA},
    )
    async def count_conversations(
        caller: Caller,
        view: str = VIEW_QUERY,
        status: Status = STATUS_QUERY,
        read: list[ReadFilter] = READ_QUERY,
    ) -> dict:
        inbox_filter = _inbox_filter(view, status, read)
        async with sessions() as session:
            return await counts.count_conversations(session, caller, inbox_filter)

    @router.post(
        "/assign",
        response_model=AssignmentResult,
        summary="Assign conversations to a user or a team",
        description="Assigns the listed conversations, or every conversation matching `filter`, in one "
        'transaction, records "assigned to … by …" (and the note) in each timeline, and emits '
        "`conversation.assigned.v1` (and `conversation.note_added.v1`). An id that is not a "
        "conversation of your account fails the whole request with 404 and changes nothing; an "
        "assignee outside your account is refused with 422.",
        responses={404: ERROR_RESPONSE_SCHEMA, 422: ERROR_RESPONSE_SCHEMA},
    )
    async def assign_conversations(caller: Caller, body: AssignRequest) -> AssignmentResult:
        try:
            async with sessions.begin() as session:
                result = await assign(
                    session,
                    caller,
                    assignee=Assignee(body.assignee.user_id, body.assignee.team_id),
                    conversation_ids=body.conversation_ids,
                    inbox_filter=body.filter.to_filter() if body.filter else None,
                    note=body.note,
                    now=_now(),
                )
        except ConversationsNotFound as exc:
            raise _not_found(exc) from exc
        except InvalidAssignee as exc:
            raise ApiError(422, "invalid_assignee", str(exc), [{"loc": ["body", "assignee"]}]) from exc
        except TooManyConversations as exc:
            raise ApiError(422, "too_many_conversations", str(exc), [{"loc": ["body", "filter"]}]) from exc
        if result.conversation_ids:
            on_events()
        return AssignmentResult(
            conversation_ids=result.conversation_ids,
            count=len(result.conversation_ids),
            assignee_user_id=result.assignee_user_id,
            assignee_team_id=result.assignee_team_id,
            assignee_name=result.assignee_name,
            mentioned_user_ids=result.mentioned_user_ids,
            notified_user_ids=result.notify_user_ids,
        )

    async def _set_statuses(caller: Viewer, body: BulkStatusRequest, status: Literal["open", "closed"]):
        try:
            async with sessions.begin() as session:
                changed = await change_statuses(
                    session,
                    caller,
                    status,
                    _now(),
                    conversation_ids=body.conversation_ids,
                    inbox_filter=body.filter.to_filter() if body.filter else None,
                )
        except TooManyConversations as exc:
            raise ApiError(422, "too_many_conversations", str(exc), [{"loc": ["body", "filter"]}]) from exc
        if changed:
            on_events()
        return BulkStatusResult(changed=len(changed), conversation_ids=changed)

    BULK_STATUS = (
        "the listed conversations, or every conversation matching `filter`, in one transaction; each "
        "one changed gets its timeline entry and `conversation.status_changed.v1`, as when changed "
        "alone. Conversations already {0}, archived ones, and ids that are not conversations of your "
        "account are left alone (and not told apart)."
    )

    # Static paths, declared before the `/{conversation_id}` ones.
    @router.post(
        "/close",
        response_model=BulkStatusResult,
        summary="Close conversations in bulk",
        description="Closes " + BULK_STATUS.format("closed"),
        responses={422: ERROR_RESPONSE_SCHEMA},
    )
    async def close_conversations(caller: Caller, body: BulkStatusRequest) -> BulkStatusResult:
        return await _set_statuses(caller, body, "closed")

    @router.post(
        "/reopen",
        response_model=BulkStatusResult,
        summary="Reopen conversations in bulk",
        description="Reopens " + BULK_STATUS.format("open"),
        responses={422: ERROR_RESPONSE_SCHEMA},
    )
    async def reopen_conversations(caller: Caller, body: BulkStatusRequest) -> BulkStatusResult:
        return await _set_statuses(caller, body, "open")

    @router.get(
        "/{conversation_id}",
        response_model=ConversationSummary,
        summary="One conversation",
        responses=NOT_FOUND,
    )
    async def get_conversation(conversation_id: UUID, caller: Reader) -> ConversationSummary:
        async with sessions() as session:
            row = await queries.conversation_row(session, caller, conversation_id)
        if row is None:
            raise ApiError(404, "not_found", "conversation not found")
        return summary_from_row(row, caller, _now())

    @router.post(
        "/{conversation_id}/read",
        response_model=ReadMark,
        summary="Mark a conversation read by me",
        description="Marks the conversation read up to its latest inbound message for the caller. For "
        "a conversation assigned to a team, one member reading it makes it read for the team. Emits "
        "`conversation.read.v1` when the caller's own read state changes.",
        responses=NOT_FOUND,
    )
    async def read_conversation(conversation_id: UUID, caller: Caller) -> dict:
        return await _mark(mark_read, conversation_id, caller)

    @router.post(
        "/{conversation_id}/unread",
        response_model=ReadMark,
        summary="Mark a conversation unread for me",
        description="The opposite of `/read`: the caller's read position moves back to just before the "
        "latest inbound message (a position further back stays). The conversation counts as unread "
        "again unless, for a team's conversation, another member has read it, or, unassigned, someone "
        "else has. Emits `conversation.read.v1` when the caller's own read state changes.",
        responses=NOT_FOUND,
    )
    async def unread_conversation(conversation_id: UUID, caller: Caller) -> dict:
        return await _mark(mark_unread, conversation_id, caller)

    async def _mark(use_case, conversation_id: UUID, caller: Viewer) -> dict:
        try:
            async with sessions.begin() as session:
                mark = await use_case(session, caller.account_id, caller.user_id, conversation_id, _now())
        except ConversationsNotFound as exc:
            raise _not_found(exc) from exc
        on_events()
        return mark

    @router.post(
        "/{conversation_id}/notes",
        response_model=NoteView,
        status_code=201,
        summary="Leave an internal note in a conversation",
        description="Shown in the timeline as internal, never sent to the customer; works even when "
        "the composer is blocked (no mobile number, landline, opted out). Mentioned colleagues get "
        "`conversation.note_added.v1`.",
        responses={**NOT_FOUND, 422: ERROR_RESPONSE_SCHEMA},
    )
    async def add_conversation_note(conversation_id: UUID, body: NoteRequest, caller: Caller) -> NoteView:
        try:
            async with sessions.begin() as session:
                note = await add_note(session, caller, conversation_id, body.body, _now())
        except ConversationsNotFound as exc:
            raise _not_found(exc) from exc
        on_events()
        return NoteView(**asdict(note))

    async def _set_status(conversation_id: UUID, caller: Viewer, status: Literal["open", "closed"]):
        try:
            async with sessions.begin() as session:
                changed = await change_status(
                    session, caller.account_id, caller.user_id, conversation_id, status, _now()
                )
        except ConversationsNotFound as exc:
            raise _not_found(exc) from exc
        except StatusConflict as exc:
            raise ApiError(409, "conflict", str(exc)) from exc
        if changed:
            on_events()
        async with sessions() as session:
            row = await queries.conversation_row(session, caller, conversation_id)
        assert row is not None
        return summary_from_row(row, caller, _now())

    @router.post(
        "/{conversation_id}/close",
        response_model=ConversationSummary,
        summary="Close a conversation",
        description="Closes it by hand (idempotent); a new message from the customer reopens it. "
        "Emits `conversation.status_changed.v1`.",
        responses={404: ERROR_RESPONSE_SCHEMA, 409: ERROR_RESPONSE_SCHEMA},
    )
    async def close_conversation(conversation_id: UUID, caller: Caller) -> ConversationSummary:
        return await _set_status(conversation_id, caller, "closed")

    @router.post(
        "/{conversation_id}/reopen",
        response_model=ConversationSummary,
        summary="Reopen a closed conversation",
        description="Idempotent. Emits `conversation.status_changed.v1`. Archived conversations "
        "cannot be reopened (409).",
        responses={404: ERROR_RESPONSE_SCHEMA, 409: ERROR_RESPONSE_SCHEMA},
    )
    async def reopen_conversation(conversation_id: UUID, caller: Caller) -> ConversationSummary:
        return await _set_status(conversation_id, caller, "open")

    @router.get(
        "/{conversation_id}/timeline",
        response_model=TimelinePage,
        summary="Messages and events of a conversation, oldest (or newest) first",
        description="Messages, assignments, notes, closes and reopens merged in time order, paginated "
        "with an opaque cursor. `order=newest` starts at the latest and each `next_cursor` goes "
        "back in time.",
        responses={404: ERROR_RESPONSE_SCHEMA, 422: ERROR_RESPONSE_SCHEMA},
    )
    async def conversation_timeline(
        conversation_id: UUID,
        caller: Reader,
        cursor: str | None = Query(None, description="`next_cursor` of the previous page"),
        limit: int = Query(100, ge=1, le=500),
        order: Literal["oldest", "newest"] = Query("oldest", description="oldest first (default) or newest"),
    ) -> TimelinePage:
        async with sessions() as session:
            try:
                found = await queries.timeline(
                    session, caller.account_id, conversation_id, limit, cursor, newest_first=order == "newest"
                )
            except InvalidCursor as exc:
                raise ApiError(422, "invalid_cursor", str(exc)) from exc
        if found is None:
            raise ApiError(404, "not_found", "conversation not found")
        rows, next_cursor = found
        return TimelinePage(items=[TimelineItem(**row) for row in rows], next_cursor=next_cursor)

    @router.get(
        "/{conversation_id}/messages",
        response_model=list[MessageView],
        summary="Messages of a conversation, oldest first",
        responses=NOT_FOUND,
    )
    async def list_messages(
        conversation_id: UUID, caller: Reader, limit: int = Query(100, ge=1, le=500)
    ) -> list[dict]:
        async with sessions() as session:
            rows = await queries.conversation_messages(session, caller.account_id, conversation_id, limit)
        if rows is None:
            raise ApiError(404, "not_found", "conversation not found")
        return rows

    return router
