"""Sending: replies, starting a conversation from a source, what a source reached. Every route is
scoped to the caller's account: an id of another account is answered exactly like an id that
does not exist (404)."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Path, Query, Response
from pydantic import StringConstraints
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from routing.conversations import queries
from routing.conversations.models import MessageView
from routing.cursors import InvalidCursor
from routing.domain.composer import REASON_MESSAGES
from routing.messaging.models import (
    ComposerView,
    OutreachRequest,
    ReachedCustomer,
    ReachedPage,
    ReachingSource,
    ReplyRequest,
    SentMessage,
    SourcesPage,
    SourceSummary,
)
from routing.messaging.queries import conversation_link, reached_customers, sources_of_kind
from routing.messaging.usecases.composer import composer_for
from routing.messaging.usecases.errors import CannotSend, InvalidMessage, RecipientNotFound
from routing.messaging.usecases.outreach import Recipient, start_conversation
from routing.messaging.usecases.send import SendResult, reply
from routing.settings import RoutingSettings
from routing.staff_auth import role_guard
from shared.contracts.messaging import MessageSource
from shared.http.auth import Authenticated, Principal
from shared.http.errors import ERROR_RESPONSE_SCHEMA, ApiError, error_body

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
        "/sources",
        response_model=SourcesPage,
        summary="Automations, campaigns or appointments that texted customers",
        description="The sources of one `kind` that texted customers of your account, the one that "
        "texted last first, each with the name and address its system gave on its latest text, how "
        "many customers it reached, how many its latest text did not reach, and when it last sent. "
        "`id` (repeatable) narrows the list to those sources (an appointment day, say). Paginated.",
        responses={**AUTH_RESPONSES, 422: ERROR_RESPONSE_SCHEMA},
    )
    async def sources(
        caller: Staff,
        kind: ReachingSource = Query(description="automation, campaign or appointment"),
        source_ids: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] | None = Query(
            None, alias="id", max_length=200, description="Only these sources (at most 200)"
        ),
        cursor: str | None = Query(None, description="`next_cursor` of the previous page"),
        limit: int = Query(50, ge=1, le=200),
    ) -> SourcesPage:
        async with sessions() as session:
            try:
                rows, next_cursor = await sources_of_kind(
                    session, caller.account_id, kind, limit, cursor, source_ids
                )
            except InvalidCursor as exc:
                raise ApiError(422, "invalid_cursor", str(exc)) from exc
        return SourcesPage(items=[SourceSummary(**row) for row in rows], next_cursor=next_cursor)

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
