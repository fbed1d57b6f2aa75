"""Events `ingest` publishes from carrier webhooks."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from shared.contracts.base import Attachment, Contract, Event

Carrier = Literal["twilio", "telnyx"]


class CarrierInbound(Event):
    """A text (or MMS) a customer sent to one of the dealership's numbers."""

    carrier: Carrier
    carrier_message_id: str
    from_number: str
    to_number: str
    body: str = ""
    attachments: list[Attachment] = Field(default_factory=list)
    received_at: datetime
    # Everything the carrier posted, for audit and for fields we do not model yet.
    raw: dict[str, str] = Field(default_factory=dict)

    @property
    def partition_key(self) -> str:
        return f"{self.to_number}:{self.from_number}"


class CarrierStatus(Event):
    """A delivery receipt for a message we sent."""

    carrier: Carrier
    carrier_message_id: str
    status: str
    error_code: str | None = None
    error_message: str | None = None
    # The plain category (see shared.contracts.messaging.ErrorCategory), mapped by ingest,
    # which knows each carrier's codes.
    error_category: str | None = None
    raw: dict[str, str] = Field(default_factory=dict)

    @property
    def partition_key(self) -> str:
        return self.carrier_message_id


class RejectedInput(Contract):
    """Authentic but unusable input, kept with the reason so nothing is silently lost."""

    source: str
    reason: str
    received_at: datetime
    account_id: str | None = None
    payload: str
