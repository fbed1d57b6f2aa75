"""What staff send (replies, outreach) and what they are answered: the composer, the message sent,
the customers a source reached."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from routing.conversations.models import MessageView
from routing.domain.composer import ComposerReason
from routing.domain.outbound import MAX_BODY_LENGTH
from routing.messaging.usecases.send import Outgoing
from routing.requests import RequestModel
from shared.contracts.base import Attachment
from shared.contracts.messaging import MessageSource

# --- request models ---------------------------------------------------------------------------

ReachingSource = Literal["appointment", "automation", "campaign"]


class AttachmentIn(RequestModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        min_length=1, max_length=2000, pattern=r"^https?://", description="Where the carrier fetches it"
    )
    content_type: str | None = Field(default=None, max_length=200, examples=["image/jpeg"])
    file_name: str | None = Field(default=None, max_length=300, examples=["quote.pdf"])


class MessageContent(RequestModel):
    """Either `body`, or `saved_reply_id` (rendered for this customer, with `variables` for
    placeholders such as the appointment's time)."""

    model_config = ConfigDict(extra="forbid")

    body: str | None = Field(default=None, min_length=1, max_length=MAX_BODY_LENGTH)
    saved_reply_id: UUID | None = None
    variables: dict[str, Annotated[str, Field(max_length=500)]] = Field(
        default_factory=dict, max_length=50, examples=[{"appointment.time": "9:30"}]
    )
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=10)

    @model_validator(mode="after")
    def _one_text(self) -> "MessageContent":
        if (self.body is None) == (self.saved_reply_id is None):
            raise ValueError("give exactly one of body and saved_reply_id")
        return self

    def outgoing(self, source: MessageSource, client_reference: str | None) -> Outgoing:
        return Outgoing(
            body=self.body,
            saved_reply_id=self.saved_reply_id,
            variables=dict(self.variables),
            attachments=[Attachment(**a.model_dump()) for a in self.attachments],
            source=source,
            client_reference=client_reference,
        )


class ReplyRequest(MessageContent):
    pass


class SourceIn(RequestModel):
    model_config = ConfigDict(extra="forbid")

    kind: ReachingSource
    id: str = Field(min_length=1, max_length=200, description="The source's id in the system that owns it")
    name: str | None = Field(default=None, max_length=300, examples=["Winter tire campaign"])
    url: str | None = Field(default=None, max_length=2000, description="Where staff can open the source")


class OutreachRequest(MessageContent):
    """Text a customer from an appointment, an automation result or a campaign result: give
    `customer_id`, or `customer_phone` (any human format; a new customer is created for an
    unknown number)."""

    customer_id: UUID | None = None
    customer_phone: str | None = Field(default=None, min_length=3, max_length=40, examples=["(514) 555-0142"])
    source: SourceIn

    @model_validator(mode="after")
    def _one_recipient(self) -> "OutreachRequest":
        if (self.customer_id is None) == (self.customer_phone is None):
            raise ValueError("give exactly one of customer_id and customer_phone")
        return self


# --- response models --------------------------------------------------------------------------


class ComposerView(BaseModel):
    """Whether the message box is open, and if not, why (internal notes always work)."""

    can_send: bool
    reason: ComposerReason | None = Field(
        description="Why sending is blocked: no_mobile_number, landline, opted_out, archived, or "
        "no_dealership_number (the account has no number to text from)"
    )
    message: str | None = Field(description="The reason in plain words, to show staff")
    to_number: str | None = Field(description="The customer's number a message would go to, E.164")
    from_number: str | None = Field(description="The dealership number it would leave from, E.164")


class SentMessage(BaseModel):
    conversation_id: UUID
    customer_id: UUID
    conversation_link: str = Field(examples=["/conversations/6f1c…"])
    message: MessageView


class ReachedCustomer(BaseModel):
    customer_id: UUID
    customer_name: str | None
    customer_phone: str | None = Field(description="The number texted, E.164")
    conversation_id: UUID
    conversation_link: str
    message_id: UUID = Field(description="The latest message this source sent the customer")
    status: str
    error_category: str | None
    error_text: str | None = Field(
        description="Why the text did not arrive, in plain words; null unless undelivered or failed"
    )
    sent_at: datetime


class ReachedPage(BaseModel):
    items: list[ReachedCustomer]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last")


class SourceSummary(BaseModel):
    """An automation, campaign or appointment that texted customers of the account."""

    kind: ReachingSource
    id: str = Field(description="The source's id in the system that owns it")
    name: str | None = Field(description="The name its system gave it on its latest text")
    url: str | None = Field(description="Where staff can open it in its system")
    customers_reached: int = Field(description="Customers it texted")
    undelivered: int = Field(description="Customers its latest text did not reach (undelivered or failed)")
    last_sent_at: datetime


class SourcesPage(BaseModel):
    items: list[SourceSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last")
