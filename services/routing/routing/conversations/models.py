"""The inbox's and the conversation's request and response bodies."""

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from routing.domain import inbox
from routing.domain.inbox import InboxFilter, ReadFilter, Status, View, Viewer
from routing.domain.outbound import error_text
from routing.requests import RequestModel

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
    last_message_preview: str | None = Field(
        description="The first 120 characters of the latest message, inbound or outbound (never an "
        "internal note); null when the conversation has no message",
    )
    last_message_direction: Literal["inbound", "outbound"] | None = Field(
        description="Who wrote the latest message; null when there is none"
    )
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


def summary_from_row(row: dict, viewer: Viewer, now: datetime) -> ConversationSummary:
    """A row of queries.list_conversations / conversation_row, with the flags of domain/inbox.py."""
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
        last_message_preview=row["last_message_preview"],
        last_message_direction=row["last_message_direction"],
        read=inbox.is_read(last_in, read_at),
        unread_for_me=inbox.unread_for_me(assignment, viewer.user_id, viewer.team_ids, last_in, read_at),
        assignee_has_not_read=inbox.assignee_has_not_read(viewer.is_admin, assignment, last_in, read_at),
        unanswered=inbox.is_unanswered(last_in, last_out),
        overdue=inbox.is_overdue(last_in, last_out, now, row["unanswered_after_hours"]),
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


class InboxFilterBody(RequestModel):
    model_config = ConfigDict(extra="forbid")

    view: str = Field("all", description="mine, all, unassigned, user:<uuid> or team:<uuid>")
    status: Status = "open"
    read: list[ReadFilter] = Field(default_factory=list, description="Several at once: their union")

    @field_validator("view")
    @classmethod
    def _view(cls, value: str) -> str:
        View.parse(value)
        return value

    def to_filter(self) -> InboxFilter:
        return InboxFilter(View.parse(self.view), self.status, frozenset(self.read))


class AssigneeRef(RequestModel):
    model_config = ConfigDict(extra="forbid")

    user_id: UUID | None = None
    team_id: UUID | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> "AssigneeRef":
        if (self.user_id is None) == (self.team_id is None):
            raise ValueError("give exactly one of user_id and team_id")
        return self


class AssignRequest(RequestModel):
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


class BulkStatusRequest(RequestModel):
    """Either `conversation_ids` (the ticked rows) or `filter` (every conversation that matches,
    not only the page on screen)."""

    model_config = ConfigDict(extra="forbid")

    conversation_ids: list[UUID] | None = Field(default=None, min_length=1, max_length=1000)
    filter: InboxFilterBody | None = None

    @model_validator(mode="after")
    def _one_selection(self) -> "BulkStatusRequest":
        if (self.conversation_ids is None) == (self.filter is None):
            raise ValueError("give exactly one of conversation_ids and filter")
        return self


class NoteRequest(RequestModel):
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
    # Two schemas are named NoteView (conversations' and customers'): OpenAPI then names each after
    # its module, and the published names are those of the module it was first written in.
    __module__ = "routing.api.conversations"

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


class BulkStatusResult(BaseModel):
    changed: int = Field(description="How many conversations changed status")
    conversation_ids: list[UUID] = Field(
        description="The conversations that changed (not those already in that status, archived, or "
        "not of your account)"
    )
