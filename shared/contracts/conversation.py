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
