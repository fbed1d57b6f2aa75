"""Sending: replies, starting a conversation from a source, what a source reached. Every route is
scoped to the caller's account: an id of another account is answered exactly like an id that
does not exist (404)."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from routing import queries
from routing.api.conversations import MessageView
from routing.api.staff_auth import role_guard
from routing.domain.composer import REASON_MESSAGES, ComposerReason
from routing.domain.outbound import MAX_BODY_LENGTH
from routing.queries import InvalidCursor
from routing.settings import RoutingSettings
from routing.usecases.outreach import Recipient, start_conversation
from routing.usecases.reached import conversation_link, reached_customers
from routing.usecases.send import (
    CannotSend,
    InvalidMessage,
    Outgoing,
    RecipientNotFound,
    SendResult,
    composer_for,
    reply,
)
from shared.contracts.base import Attachment
from shared.contracts.messaging import MessageSource
from shared.http.auth import Authenticated, Principal
from shared.http.errors import ERROR_RESPONSE_SCHEMA, ApiError, error_body

ReachingSource = Literal["appointment", "automation", "campaign"]

# --- request models ---------------------------------------------------------------------------


class AttachmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        min_length=1, max_length=2000, pattern=r"^https?://", description="Where the carrier fetches it"
    )
    content_type: str | None = Field(default=None, max_length=200, examples=["image/jpeg"])
    file_name: str | None = Field(default=None, max_length=300, examples=["quote.pdf"])


class MessageContent(BaseModel):
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


class SourceIn(BaseModel):
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


# --- routes -----------------------------------------------------------------------------------


def _error_example(description: str, example: dict) -> dict:
    return {"description": description, "content": {"application/json": {"example": example}}}


IDEMPOTENCY_KEY = Header(
    None,
    alias="Idempotency-Key",
    min_length=1,
    max_length=200,
    description="Sending again with the same key returns the first message (200) and texts nobody",
)
AUTH_RESPONSES = {
    401: _error_example(
        "No valid token, or its user was deactivated",
        error_body("unauthorized", "invalid or expired token"),
    ),
    403: _error_example(
        "Staff only: service tokens cannot send", error_body("forbidden", "only admin or agent may do this")
    ),
}
SEND_RESPONSES = {
    **AUTH_RESPONSES,
    200: {
        "model": SentMessage,
        "description": "Already sent with this `Idempotency-Key`: the message stored the first time",
    },
    404: ERROR_RESPONSE_SCHEMA,
    409: _error_example(
        "`cannot_send`: the composer is blocked; `details.reason` says why (opted_out, landline, "
        "no_mobile_number, archived, no_dealership_number)",
        error_body("cannot_send", REASON_MESSAGES["opted_out"], {"reason": "opted_out"}),
    ),
    422: _error_example(
        "The request is invalid (`invalid_request`), the text is empty (`invalid_message`), the "
        "number is not a phone number (`invalid_phone_number`), or the saved reply is missing "
        "(`saved_reply_not_found`), lacks values (`saved_reply_missing_values`) or is invalid "
        "(`saved_reply_invalid`)",
        error_body(
            "saved_reply_missing_values",
            "the saved reply needs values for: appointment.time",
            [{"loc": ["body", "variables"], "msg": "…", "missing": ["appointment.time"]}],
        ),
    ),
}


def _now() -> datetime:
    return datetime.now(UTC)


def messaging_router(
    settings: RoutingSettings,
    sessions: async_sessionmaker[AsyncSession],
    auth: Authenticated,
    on_events: Callable[[], None] = lambda: None,
) -> APIRouter:
    """`on_events` runs after a commit that wrote outbox rows (wakes the relay)."""
    router = APIRouter(prefix="/api/v1", tags=["messaging"])

    Staff = Annotated[Principal, Depends(role_guard(auth, "admin", "agent"))]

    async def _sent(caller: Principal, result: SendResult, response: Response) -> SentMessage:
        if result.created:
            on_events()
        response.status_code = 201 if result.created else 200
        async with sessions() as session:
            found = await queries.messages_by_id(session, caller.account_id, [result.message_id])
        return SentMessage(
            conversation_id=result.conversation_id,
            customer_id=result.customer_id,
            conversation_link=conversation_link(result.conversation_id),
            message=MessageView.model_validate(found[result.message_id]),
        )

    @router.get(
        "/conversations/{conversation_id}/composer",
        response_model=ComposerView,
        summary="Can staff text this customer?",
        description="The message box's state: open with the numbers a text would use, or blocked with "
        "the reason (no mobile number, landline, opted out, archived conversation).",
        responses={**AUTH_RESPONSES, 404: ERROR_RESPONSE_SCHEMA},
    )
    async def composer(conversation_id: UUID, caller: Staff) -> ComposerView:
        try:
            async with sessions() as session:
                state = await composer_for(session, caller.account_id, conversation_id)
        except RecipientNotFound as exc:
            raise ApiError(404, "not_found", "conversation not found") from exc
        return ComposerView(
            can_send=state.can_send,
            reason=state.reason,
            message=state.message,
            to_number=state.to_number,
            from_number=state.from_number,
        )

    @router.post(
        "/conversations/{conversation_id}/messages",
        response_model=SentMessage,
        status_code=201,
        summary="Reply to the customer",
        description="Stores the message as `queued` with the caller as its sender, and hands it "
        "to notifier (`sms.outbound_requested.v1`) and to the other services "
        "(`conversation.message_sent.v1`). In a conversation assigned to someone else (another "
        "user, or a team the caller is not in) the text starts with who writes "
        "(`Lou from Maple Honda: ...`), and `message.body` is what the customer reads. The "
        "conversation counts as answered; a closed one reopens; its assignee does not change and "
        "the caller is not subscribed to it. Delivery updates `message.status` later.",
        responses=SEND_RESPONSES,
    )
    async def send_reply(
        conversation_id: UUID,
        body: ReplyRequest,
        caller: Staff,
        response: Response,
        idempotency_key: str | None = IDEMPOTENCY_KEY,
    ) -> SentMessage:
        outgoing = body.outgoing(MessageSource(kind="manual"), idempotency_key)
        try:
            async with sessions.begin() as session:
                result = await reply(
                    session, caller.account_id, conversation_id, caller.user_id, outgoing, _now()
                )
        except RecipientNotFound as exc:
            raise ApiError(404, "not_found", "conversation not found") from exc
        except CannotSend as exc:
            raise _cannot_send(exc) from exc
        except InvalidMessage as exc:
            raise _invalid(exc) from exc
        return await _sent(caller, result, response)

    @router.post(
        "/outreach",
        response_model=SentMessage,
        status_code=201,
        summary="Text a customer from an appointment, automation or campaign",
        description="Finds the customer (by id, or by phone number: a new customer is created for an "
        "unknown number), their one active conversation (opened when there is none, reopened when "
        "closed), and sends there like a reply, with `source` shown under the message. Other "
        "systems do the same through `messaging.send_requested.v1`.",
        responses=SEND_RESPONSES,
    )
    async def outreach(
        body: OutreachRequest,
        caller: Staff,
        response: Response,
        idempotency_key: str | None = IDEMPOTENCY_KEY,
    ) -> SentMessage:
        source = MessageSource(**body.source.model_dump())
        try:
            async with sessions.begin() as session:
                result = await start_conversation(
                    session,
                    caller.account_id,
                    Recipient(body.customer_id, body.customer_phone),
                    caller.user_id,
                    body.outgoing(source, idempotency_key),
                    settings.default_phone_region,
                    _now(),
                )
        except RecipientNotFound as exc:
            raise ApiError(404, "not_found", "customer not found") from exc
        except CannotSend as exc:
            raise _cannot_send(exc) from exc
        except InvalidMessage as exc:
            raise _invalid(exc) from exc
        return await _sent(caller, result, response)

    @router.get(
        "/sources/{kind}/{source_id}/customers",
        response_model=ReachedPage,
        summary="Customers a source reached",
        description="The automation's or campaign's (or appointment's) results: one row per customer "
        "it texted, with the latest message's delivery status and a link to the conversation. "
        "Latest first, paginated. 404 when the source texted nobody in your account.",
        responses={**AUTH_RESPONSES, 404: ERROR_RESPONSE_SCHEMA, 422: ERROR_RESPONSE_SCHEMA},
    )
    async def reached(
        kind: ReachingSource,
        caller: Staff,
        source_id: str = Path(min_length=1, max_length=200),
        cursor: str | None = Query(None, description="`next_cursor` of the previous page"),
        limit: int = Query(50, ge=1, le=200),
    ) -> ReachedPage:
        async with sessions() as session:
            try:
                rows, next_cursor = await reached_customers(
                    session, caller.account_id, kind, source_id, limit, cursor
                )
            except InvalidCursor as exc:
                raise ApiError(422, "invalid_cursor", str(exc)) from exc
        if not rows and cursor is None:
            # Another account's source looks exactly like one that texted nobody here.
            raise ApiError(404, "not_found", "this source has not texted any customer of your account")
        return ReachedPage(items=[ReachedCustomer(**row) for row in rows], next_cursor=next_cursor)

    return router


def _cannot_send(exc: CannotSend) -> ApiError:
    return ApiError(409, "cannot_send", str(exc), {"reason": exc.reason})


def _invalid(exc: InvalidMessage) -> ApiError:
    return ApiError(422, exc.code, str(exc), [{"loc": ["body", exc.field], "msg": str(exc), **exc.details}])
