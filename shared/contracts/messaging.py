"""Outbound texts: asked for by other systems, handed by `routing` to `notifier`, and the
outcome `notifier` reports back."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from shared.contracts.base import Attachment, Contract, Event
from shared.contracts.carrier import Carrier

# Where an outbound message came from; `manual` is a staff reply typed in the composer.
SourceKind = Literal["manual", "automation", "campaign", "appointment"]

# Outbound lifecycle. A status only replaces one of a lower rank, so callbacks that arrive out
# of order never move a message backwards; the three outcomes share the top rank and the
# first one recorded stays.
OutboundStatus = Literal["queued", "scheduled", "sending", "sent", "delivered", "undelivered", "failed"]
STATUS_RANK: dict[str, int] = {
    "queued": 0,
    "scheduled": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
}

# Carrier failures as staff understand them; the carrier's own code travels beside it.
ErrorCategory = Literal[
    "wrong_number",
    "landline",
    "unreachable",
    "opted_out",
    "carrier_filtered",
    "rate_limited",
    "unknown",
]


class MessageSource(Contract):
    kind: SourceKind = "manual"
    id: str | None = None
    name: str | None = None
    url: str | None = None


class SendRequested(Event):
    """Another system (automations, campaigns, the appointment scheduler) asks routing to text a
    customer. `request_id` is the idempotency key: the same request twice texts once."""

    request_id: str = Field(min_length=1, max_length=200)
    customer_id: UUID | None = None
    customer_phone: str | None = Field(default=None, description="Any human format; parsed to E.164")
    body: str | None = None
    saved_reply_id: UUID | None = None
    source: MessageSource
    sender_user_id: UUID | None = None
    # Extra placeholder values for a saved reply (for example the appointment's time).
    variables: dict[str, str] = Field(default_factory=dict)

    @property
    def partition_key(self) -> str:
        return str(self.customer_id or self.customer_phone or self.request_id)


class OutboundRequested(Event):
    """A stored, `queued` outbound message for notifier to send through the carrier."""

    message_id: UUID
    conversation_id: UUID
    customer_id: UUID
    carrier: Carrier
    from_number: str
    to_number: str
    body: str
    attachments: list[Attachment] = Field(default_factory=list)
    source_kind: SourceKind
    sender_user_id: UUID | None = None
    # Automated sources wait for the customer's daytime; staff replies are never held.
    respect_quiet_hours: bool = False
    account_time_zone: str = "America/Toronto"

    @property
    def partition_key(self) -> str:
        # One consumer owns a sending number at a time, so its rate limit needs no lock.
        return self.from_number


class OutboundStatusChanged(Event):
    """What happened to an outbound message: reported by notifier as it sends."""

    message_id: UUID
    conversation_id: UUID | None = None
    status: OutboundStatus
    carrier: Carrier | None = None
    carrier_message_id: str | None = None
    error_category: ErrorCategory | None = None
    error_code: str | None = None
    error_message: str | None = None
    to_number: str | None = None
    at: datetime | None = None

    @property
    def partition_key(self) -> str:
        return str(self.message_id)
