"""The staff inbox: list, count, read, assign, close and reopen conversations, and their
timeline. Every route is scoped to the caller's account: an id of another account is
answered exactly like an id that does not exist."""

from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from routing import queries
from routing.domain import inbox
from routing.domain.outbound import error_text
from routing.queries import InboxFilter, InvalidCursor, InvalidView, ReadFilter, Status, View, Viewer
from routing.usecases.assign import Assignee, assign
from routing.usecases.errors import (
    ConversationsNotFound,
    InvalidAssignee,
    StatusConflict,
    TooManyConversations,
)
from routing.usecases.notes import add_note
from routing.usecases.read import mark_read
from routing.usecases.status import change_status
from shared.http.auth import Authenticated, Principal
from shared.http.errors import ERROR_RESPONSE_SCHEMA, ApiError

# Service tokens have no user: read flags are computed for nobody.
SERVICE_READER = UUID(int=0)


# --- response models --------------------------------------------------------------------------


class ConversationSummary(BaseModel):
    """One row of the inbox, with the flags the list highlights."""

    id: UUID
    customer_id: UUID
    status: Literal["open", "closed", "archived"]
    customer_name: str | None = Field(description="First and last name, when known")
    customer_phone: str | None = Field(description="The customer's number, E.164")
    assignee_user_id: UUID | None
    assignee_team_id: UUID | None
    last_activity_at: datetime
    last_inbound_at: datetime | None = Field(description="When the customer last wrote")
    last_outbound_at: datetime | None = Field(description="When the dealership last wrote")
    read: bool = Field(
        description="The latest inbound message was read by the assignee (for a team: any member; "
        "unassigned: anyone)"
    )
    unread_for_me: bool = Field(
        description="Assigned to me or to a team I am in, and not read: the red highlight and dot"
    )
    assignee_has_not_read: bool | None = Field(
        description="Admins only (null for agents): the assignee (for a team: every member) has not "
        "read the latest inbound message: the eye icon"
    )
    unanswered: bool = Field(description="No outbound message since the latest inbound one")
    overdue: bool = Field(
        description="Unanswered for longer than the account's `unanswered_after_hours`: the orange highlight"
    )


class ConversationPage(BaseModel):
    items: list[ConversationSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last")


class ConversationCounts(BaseModel):
    """How many conversations each choice of the view / status / read menus would show, each
    counted with the other two menus as asked."""

    current: int = Field(description="Conversations matching the view, status and read filters asked")
    views: dict[str, Any] = Field(
        description="`mine`, `all`, `unassigned`, and `users` / `teams`: counts per assignee id",
        examples=[{"mine": 3, "all": 12, "unassigned": 2, "users": {"<uuid>": 4}, "teams": {"<uuid>": 6}}],
    )
    status: dict[str, int] = Field(description="Per status: open, closed, archived, all (open + closed)")
    read: dict[str, int] = Field(description="Per read filter: read, unread, unanswered")


class ReadMark(BaseModel):
    conversation_id: UUID
    user_id: UUID
    last_read_message_id: UUID | None = Field(description="The latest inbound message read, if any")
    last_read_at: datetime = Field(description="The time of that message (read position)")


class AttachmentView(BaseModel):
    url: str
    content_type: str | None = Field(default=None, examples=["image/jpeg"])
    file_name: str | None = None


class MessageSourceView(BaseModel):
    """Where a message came from, shown under it; `name` links to `url`."""

    kind: str = Field(
        description="`customer` (inbound), `manual` (typed by staff), `automation`, `campaign` or "
        "`appointment`"
    )
    id: str | None = Field(default=None, description="The source's id in the system that owns it")
    name: str | None = Field(default=None, examples=["Oil change reminder"])
    url: str | None = Field(default=None, description="Where the source can be opened")


class MessageView(BaseModel):
    id: UUID
    direction: Literal["inbound", "outbound"]
    body: str
    attachments: list[AttachmentView]
    sender_user_id: UUID | None = Field(description="The staff member who sent it (outbound)")
    sender_name: str | None = Field(default=None, description="Shown to the customer as the sender")
    source_kind: str = Field(description="Same as `source.kind`")
    source: MessageSourceView
    status: str = Field(
        description="Inbound: `received`. Outbound: queued, scheduled (waiting for the customer's "
        "daytime), sending, sent, delivered, undelivered or failed; it never moves backwards"
    )
    error_category: str | None = Field(
        description="Why it did not arrive: wrong_number, landline, unreachable, opted_out, "
        "carrier_filtered, rate_limited or unknown"
    )
    error_code: str | None = Field(default=None, description="The carrier's own error code")
    error_text: str | None = Field(default=None, description="The failure in plain words, for staff")
    carrier_error_message: str | None = Field(default=None, description="The carrier's own wording")
    from_number: str | None = Field(default=None, description="E.164")
    to_number: str | None = Field(default=None, description="E.164")
    status_updated_at: datetime | None = None
    created_at: datetime

    @model_validator(mode="before")
    @classmethod
    def _from_row(cls, data: Any) -> Any:
        """Accepts a `messages` row as queries return it."""
        if not isinstance(data, dict) or "source" in data:
            return data
        return {
            **data,
            "source": {
                "kind": data.get("source_kind") or "manual",
                "id": data.get("source_id"),
                "name": data.get("source_name"),
                "url": data.get("source_url"),
            },
            "error_text": error_text(data.get("error_category"), data.get("status") or ""),
            "carrier_error_message": data.get("error_message"),
            "from_number": data.get("from_e164"),
            "to_number": data.get("to_e164"),
        }


class TimelineItem(BaseModel):
    """A message, or an event such as "assigned to Y by X at T", a note, a close or a reopen."""

    id: UUID
    kind: Literal[
        "message", "assigned", "note", "closed", "reopened", "archived", "merged", "opted_out", "opted_in"
    ]
    created_at: datetime
    actor_user_id: UUID | None = Field(description="Who did it (the sender, for outbound messages)")
    actor_name: str | None
    data: dict | None = Field(
        description="For events: `assigned` has assignee_user_id / assignee_team_id / assignee_name "
        "and previous_assignee_user_id / previous_assignee_team_id; "
        "`note` has body and mentioned_user_ids; `closed` / `reopened` have previous_status (and "
        "`reason` for a reopen by a message: message_received or message_sent); `merged` and "
        "`archived` (profile merge) have surviving_customer_id, merged_customer_id, phone, "
        "archived_conversation_id and surviving_conversation_id"
    )
    message: MessageView | None = Field(default=None, description="For kind `message`")


class TimelinePage(BaseModel):
    items: list[TimelineItem]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last")


# --- request models ---------------------------------------------------------------------------


class InboxFilterBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    view: str = Field("all", description="mine, all, user:<uuid> or team:<uuid>")
    status: Status = "open"
    read: list[ReadFilter] = Field(default_factory=list, description="Several at once: their union")

    @field_validator("view")
    @classmethod
    def _view(cls, value: str) -> str:
        View.parse(value)
        return value

    def to_filter(self) -> InboxFilter:
        return InboxFilter(View.parse(self.view), self.status, frozenset(self.read))


class AssigneeRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: UUID | None = None
    team_id: UUID | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> "AssigneeRef":
        if (self.user_id is None) == (self.team_id is None):
            raise ValueError("give exactly one of user_id and team_id")
        return self


class AssignRequest(BaseModel):
    """Either `conversation_ids` (the ticked rows) or `filter` (every conversation that matches,
    not only the page on screen)."""

    model_config = ConfigDict(extra="forbid")

    conversation_ids: list[UUID] | None = Field(default=None, min_length=1, max_length=1000)
    filter: InboxFilterBody | None = None
    assignee: AssigneeRef
    note: str | None = Field(
        default=None,
        max_length=5000,
        description='Internal note; "@Sam Agent" or "@sam" mentions a colleague',
    )

    @model_validator(mode="after")
    def _one_selection(self) -> "AssignRequest":
        if (self.conversation_ids is None) == (self.filter is None):
            raise ValueError("give exactly one of conversation_ids and filter")
        return self


class NoteRequest(BaseModel):
    body: str = Field(
        min_length=1,
        max_length=5000,
        description="For colleagues only, never sent to the customer; `@First Last` or `@email` "
        "mentions a colleague, who is notified",
    )

    @field_validator("body")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a note needs some text")
        return value


class NoteView(BaseModel):
    id: UUID
    conversation_id: UUID
    body: str
    mentioned_user_ids: list[UUID] = Field(description="The colleagues the note @mentions")
    actor_name: str
    created_at: datetime


class AssignmentResult(BaseModel):
    conversation_ids: list[UUID] = Field(description="Every conversation assigned")
    count: int
    assignee_user_id: UUID | None
    assignee_team_id: UUID | None
    assignee_name: str
    mentioned_user_ids: list[UUID] = Field(description="Colleagues the note @mentions")
    notified_user_ids: list[UUID] = Field(
        description="The assigned user, or every member of the team, except the caller"
    )


# --- helpers ----------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _summary(row: dict, viewer: Viewer, now: datetime) -> ConversationSummary:
    assignment = inbox.Assignment(row["assignee_user_id"], row["assignee_team_id"])
    last_in, last_out, read_at = row["last_inbound_at"], row["last_outbound_at"], row["owner_read_at"]
    name = " ".join(p for p in (row["first_name"], row["last_name"]) if p)
    return ConversationSummary(
        id=row["id"],
        customer_id=row["customer_id"],
        status=row["status"],
        customer_name=name or None,
        customer_phone=row["customer_phone"],
        assignee_user_id=row["assignee_user_id"],
        assignee_team_id=row["assignee_team_id"],
        last_activity_at=row["last_activity_at"],
        last_inbound_at=last_in,
        last_outbound_at=last_out,
        read=inbox.is_read(last_in, read_at),
        unread_for_me=inbox.unread_for_me(assignment, viewer.user_id, viewer.team_ids, last_in, read_at),
        assignee_has_not_read=inbox.assignee_has_not_read(viewer.is_admin, assignment, last_in, read_at),
        unanswered=inbox.is_unanswered(last_in, last_out),
        overdue=inbox.is_overdue(last_in, last_out, now, row["unanswered_after_hours"]),
    )


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
    description="`mine` (assigned to me or a team I am in), `all`, `user:<uuid>` or `team:<uuid>`",
    pattern=r"^(mine|all|user:[0-9a-fA-F-]{36}|team:[0-9a-fA-F-]{36})$",
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
        return ConversationPage(items=[_summary(row, caller, now) for row in rows], next_cursor=next_cursor)

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
            return await queries.count_conversations(session, caller, inbox_filter)

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
        return _summary(row, caller, _now())

    @router.post(
        "/{conversation_id}/read",
        response_model=ReadMark,
        summary="Mark a conversation read by me",
        description="Marks the conversation read up to its latest inbound message for the caller. For "
        "a conversation assigned to a team, one member reading it makes it read for the team.",
        responses=NOT_FOUND,
    )
    async def read_conversation(conversation_id: UUID, caller: Caller) -> dict:
        try:
            async with sessions.begin() as session:
                return await mark_read(session, caller.account_id, caller.user_id, conversation_id, _now())
        except ConversationsNotFound as exc:
            raise _not_found(exc) from exc

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
        return _summary(row, caller, _now())

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
        summary="Messages and events of a conversation, oldest first",
        description="Messages, assignments, notes, closes and reopens merged in time order, paginated "
        "with an opaque cursor.",
        responses={404: ERROR_RESPONSE_SCHEMA, 422: ERROR_RESPONSE_SCHEMA},
    )
    async def conversation_timeline(
        conversation_id: UUID,
        caller: Reader,
        cursor: str | None = Query(None, description="`next_cursor` of the previous page"),
        limit: int = Query(100, ge=1, le=500),
    ) -> TimelinePage:
        async with sessions() as session:
            try:
                found = await queries.timeline(session, caller.account_id, conversation_id, limit, cursor)
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
