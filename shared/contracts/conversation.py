"""Events `routing` publishes about conversations, through its outbox."""

from datetime import datetime
from uuid import UUID

from pydantic import Field

from shared.contracts.base import Attachment, Event


class MessageReceived(Event):
    """A customer's message was stored in a conversation."""

    conversation_id: UUID
    customer_id: UUID
    message_id: UUID
    customer_name: str | None = None
    customer_phone: str
    dealership_phone: str
    body: str
    attachments: list[Attachment] = Field(default_factory=list)
    received_at: datetime
    assignee_user_id: UUID | None = None
    assignee_team_id: UUID | None = None
    # Who should hear about it, resolved by routing, which owns assignments and teams.
    notify_user_ids: list[UUID] = Field(default_factory=list)

    @property
    def partition_key(self) -> str:
        return str(self.conversation_id)


class ConversationsAssigned(Event):
    """One assignment action by a staff member: one or many conversations (bulk) now belong
    to a user or to a team."""

    conversation_ids: list[UUID]
    assignee_user_id: UUID | None = None
    assignee_team_id: UUID | None = None
    assignee_name: str
    actor_user_id: UUID
    actor_name: str
    note: str | None = None
    # The assigned user, or every member of the assigned team, resolved by routing.
    notify_user_ids: list[UUID] = Field(default_factory=list)

    @property
    def partition_key(self) -> str:
        return str(self.account_id)


class NoteAdded(Event):
    """An internal note written in one or many conversations (one note per bulk action)."""

    conversation_ids: list[UUID]
    note_ids: list[UUID] = Field(default_factory=list)
    actor_user_id: UUID
    actor_name: str
    body: str
    mentioned_user_ids: list[UUID] = Field(default_factory=list)

    @property
    def partition_key(self) -> str:
        return str(self.account_id)


class ConversationStatusChanged(Event):
    """A conversation was closed or reopened."""

    conversation_id: UUID
    status: str
    previous_status: str
    actor_user_id: UUID | None = None
    reason: str = "manual"

    @property
    def partition_key(self) -> str:
        return str(self.conversation_id)


class MessageSent(Event):
    """A staff member (or an automated source) wrote to a customer: the message is stored as
    `queued`; its delivery outcome follows on `sms.outbound_status.v1`."""

    conversation_id: UUID
    customer_id: UUID
    message_id: UUID
    body: str
    attachments: list[Attachment] = Field(default_factory=list)
    sender_user_id: UUID | None = None
    source_kind: str = "manual"
    source_id: str | None = None
    source_name: str | None = None
    created_at: datetime

    @property
    def partition_key(self) -> str:
        return str(self.conversation_id)


class DeliveryFailed(Event):
    """A message staff (or an automated source) sent could not be delivered; routing emits it
    once per message when the failure is recorded, so notifier can tell the sender plainly."""

    conversation_id: UUID
    customer_id: UUID | None = None
    message_id: UUID
    sender_user_id: UUID | None = None
    customer_name: str | None = None
    customer_phone: str | None = None
    body: str = ""
    status: str
    error_category: str
    error_code: str | None = None
    error_message: str | None = None

    @property
    def partition_key(self) -> str:
        return str(self.conversation_id)


class ConversationReadChanged(Event):
    """A person marked a conversation read or unread (read marks are per person)."""

    conversation_id: UUID
    user_id: UUID
    read: bool

    @property
    def partition_key(self) -> str:
        return str(self.conversation_id)


class MessageStatusChanged(Event):
    """An outbound message's delivery status changed, as routing recorded it."""

    conversation_id: UUID
    message_id: UUID
    status: str = Field(description="queued, sent, delivered, undelivered or failed")
    error_category: str | None = Field(
        None, description="Why it was not delivered, in plain words (wrong number, landline…)"
    )

    @property
    def partition_key(self) -> str:
        return str(self.conversation_id)
