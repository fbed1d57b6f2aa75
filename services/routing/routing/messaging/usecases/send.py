"""Texting a customer: the one path every outbound message takes, a staff reply as much as a
conversation started from a source (outreach.py): the composer's checks, the message
stored as `queued`, the conversation answered (and reopened when it was closed), and
`sms.outbound_requested.v1` + `conversation.message_sent.v1` through the outbox in the same
transaction. A caller's idempotency key stores (and texts) once."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from sqlalchemy import Row, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from routing.domain.outbound import MAX_BODY_LENGTH, introduced, respects_quiet_hours
from routing.messaging.usecases.composer import conversation_composer, load_conversation
from routing.messaging.usecases.errors import CannotSend, InvalidMessage
from routing.messaging.usecases.last_message import latest_message_values
from routing.outbox import add_event
from routing.saved_replies.usecases import (
    InvalidTemplate,
    SavedReplyNotFound,
    SavedReplyRenderError,
    render_saved_reply,
)
from routing.tables import (
    account_phone_numbers,
    accounts,
    conversations,
    messages,
    team_members,
    timeline_events,
    users,
)
from shared.contracts.base import Attachment
from shared.contracts.conversation import ConversationStatusChanged, MessageSent
from shared.contracts.messaging import MessageSource, OutboundRequested
from shared.contracts.topics import CONVERSATION_STATUS_CHANGED, MESSAGE_SENT, SMS_OUTBOUND_REQUESTED

DEFAULT_TIME_ZONE = "America/Toronto"


# --- what is sent -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    """A text to send: `body`, or `saved_reply_id` rendered with `variables`."""

    body: str | None = None
    saved_reply_id: UUID | None = None
    variables: dict[str, str] = field(default_factory=dict)
    attachments: list[Attachment] = field(default_factory=list)
    source: MessageSource = field(default_factory=MessageSource)
    # The caller's idempotency key: the same key twice returns the first message.
    client_reference: str | None = None


@dataclass(frozen=True)
class SendResult:
    message_id: UUID
    conversation_id: UUID
    customer_id: UUID
    # False when the idempotency key named a message stored earlier: nothing new was sent.
    created: bool


# --- replying in a conversation ---------------------------------------------------------------


async def reply(
    session: AsyncSession,
    account_id: UUID,
    conversation_id: UUID,
    sender_user_id: UUID | None,
    outgoing: Outgoing,
    now: datetime,
) -> SendResult:
    """`sender_user_id` is None for texts no person typed (an automatic answer). Raises
    RecipientNotFound, CannotSend, InvalidMessage."""
    earlier = await message_for_client_reference(session, account_id, outgoing.client_reference)
    if earlier:
        return earlier
    conversation = await load_conversation(session, account_id, conversation_id, lock=True)
    return await send_in_conversation(session, account_id, conversation, sender_user_id, outgoing, now)


# --- the one path every outbound message takes -------------------------------------------------


async def send_in_conversation(
    session: AsyncSession,
    account_id: UUID,
    conversation: Row,
    sender_user_id: UUID | None,
    outgoing: Outgoing,
    now: datetime,
) -> SendResult:
    """`conversation` is locked by the caller, so sends in one conversation are serialised."""
    state = await conversation_composer(session, account_id, conversation)
    if not state.can_send:
        raise CannotSend(state)
    assert state.to_number and state.from_number
    body = await _body(session, account_id, conversation, sender_user_id, outgoing, state.from_number)

    message_id = uuid4()
    source = outgoing.source
    carrier = await session.scalar(
        select(account_phone_numbers.c.carrier).where(
            account_phone_numbers.c.account_id == account_id,
            account_phone_numbers.c.e164 == state.from_number,
        )
    )
    stored = await session.scalar(
        insert(messages)
        .values(
            id=message_id,
            account_id=account_id,
            conversation_id=conversation.id,
            direction="outbound",
            body=body,
            attachments=[a.model_dump() for a in outgoing.attachments],
            sender_user_id=sender_user_id,
            source_kind=source.kind,
            source_id=source.id,
            source_name=source.name,
            source_url=source.url,
            carrier=carrier,
            status="queued",
            from_e164=state.from_number,
            to_e164=state.to_number,
            client_reference=outgoing.client_reference,
            status_updated_at=now,
            created_at=now,
        )
        .on_conflict_do_nothing(constraint="messages_client_reference")
        .returning(messages.c.id)
    )
    if stored is None:
        # The same key committed by a concurrent request in the meantime: that message stands.
        earlier = await message_for_client_reference(session, account_id, outgoing.client_reference)
        assert earlier is not None
        return earlier

    if conversation.status == "closed":
        await _reopen(session, account_id, conversation.id, sender_user_id, now)
    # Answered now; the assignee stays whoever it was, whoever replied.
    await session.execute(
        update(conversations)
        .where(conversations.c.id == conversation.id)
        .values(
            status="open",
            last_outbound_at=func.greatest(conversations.c.last_outbound_at, now),
            last_activity_at=func.greatest(conversations.c.last_activity_at, now),
            **latest_message_values(message_id, now, "outbound", body),
        )
    )

    time_zone = await session.scalar(select(accounts.c.time_zone).where(accounts.c.id == account_id))
    requested = OutboundRequested(
        account_id=account_id,
        occurred_at=now,
        message_id=message_id,
        conversation_id=conversation.id,
        customer_id=conversation.customer_id,
        carrier=carrier,
        from_number=state.from_number,
        to_number=state.to_number,
        body=body,
        attachments=outgoing.attachments,
        source_kind=source.kind,
        sender_user_id=sender_user_id,
        respect_quiet_hours=respects_quiet_hours(source.kind),
        account_time_zone=time_zone or DEFAULT_TIME_ZONE,
    )
    await add_event(session, SMS_OUTBOUND_REQUESTED, requested, key=requested.partition_key)
    sent = MessageSent(
        account_id=account_id,
        occurred_at=now,
        conversation_id=conversation.id,
        customer_id=conversation.customer_id,
        message_id=message_id,
        body=body,
        attachments=outgoing.attachments,
        sender_user_id=sender_user_id,
        source_kind=source.kind,
        source_id=source.id,
        source_name=source.name,
        created_at=now,
    )
    await add_event(session, MESSAGE_SENT, sent, key=sent.partition_key)
    return SendResult(message_id, conversation.id, conversation.customer_id, created=True)


async def _body(
    session: AsyncSession,
    account_id: UUID,
    conversation: Row,
    sender_user_id: UUID | None,
    outgoing: Outgoing,
    from_number: str,
) -> str:
    if (outgoing.body is None) == (outgoing.saved_reply_id is None):
        raise InvalidMessage("give exactly one of body and saved_reply_id", "body")
    if outgoing.saved_reply_id is not None:
        body = await _render_saved_reply(
            session, account_id, conversation.customer_id, sender_user_id, outgoing, from_number
        )
    else:
        body = outgoing.body or ""
    if not body.strip():
        raise InvalidMessage("the message is empty", "body")
    if sender_user_id is not None:
        introduction = await _introduction(session, account_id, conversation, sender_user_id)
        body = introduced(body, *introduction) if introduction else body
    if len(body) > MAX_BODY_LENGTH:
        raise InvalidMessage(
            f"the message is {len(body)} characters long; at most {MAX_BODY_LENGTH} can be sent",
            "body",
            details={"length": len(body), "max_length": MAX_BODY_LENGTH},
        )
    return body


async def _introduction(
    session: AsyncSession, account_id: UUID, conversation: Row, sender_user_id: UUID
) -> tuple[str, str | None] | None:
    """(the replier's name, the dealership's name) when the replier is not who the conversation
    is assigned to (the user, or a member of the team); None in their own or an unassigned one."""
    if conversation.assignee_user_id is not None:
        if conversation.assignee_user_id == sender_user_id:
            return None
    elif conversation.assignee_team_id is not None:
        member = await session.scalar(
            select(team_members.c.user_id).where(
                team_members.c.team_id == conversation.assignee_team_id,
                team_members.c.user_id == sender_user_id,
            )
        )
        if member is not None:
            return None
    else:
        return None
    names = (
        await session.execute(
            select(users.c.name, accounts.c.name)
            .join(accounts, accounts.c.id == users.c.account_id)
            .where(users.c.id == sender_user_id, users.c.account_id == account_id)
        )
    ).one_or_none()
    return (names[0] or "", names[1]) if names else None


async def _render_saved_reply(
    session: AsyncSession,
    account_id: UUID,
    customer_id: UUID,
    sender_user_id: UUID | None,
    outgoing: Outgoing,
    from_number: str,
) -> str:
    assert outgoing.saved_reply_id is not None
    try:
        return await render_saved_reply(
            session,
            account_id,
            outgoing.saved_reply_id,
            customer_id,
            sender_user_id,
            dict(outgoing.variables),
            dealership_e164=from_number,
        )
    except SavedReplyNotFound as exc:
        raise InvalidMessage("saved reply not found", "saved_reply_id", "saved_reply_not_found") from exc
    except SavedReplyRenderError as exc:
        missing = list(getattr(exc, "missing", []))
        raise InvalidMessage(
            f"the saved reply needs values for: {', '.join(missing)}",
            "variables",
            "saved_reply_missing_values",
            {"missing": missing},
        ) from exc
    except InvalidTemplate as exc:
        raise InvalidMessage(
            f"the saved reply cannot be rendered: {exc}", "saved_reply_id", "saved_reply_invalid"
        ) from exc


async def _reopen(
    session: AsyncSession, account_id: UUID, conversation_id: UUID, actor_user_id: UUID | None, now: datetime
) -> None:
    await session.execute(
        timeline_events.insert().values(
            id=uuid4(),
            account_id=account_id,
            conversation_id=conversation_id,
            kind="reopened",
            actor_user_id=actor_user_id,
            data={"previous_status": "closed", "reason": "message_sent"},
            # Just before the message that reopened it, so the timeline shows them in that order.
            created_at=now - timedelta(microseconds=1),
        )
    )
    event = ConversationStatusChanged(
        account_id=account_id,
        occurred_at=now,
        conversation_id=conversation_id,
        status="open",
        previous_status="closed",
        actor_user_id=actor_user_id,
        reason="message_sent",
    )
    await add_event(session, CONVERSATION_STATUS_CHANGED, event, key=event.partition_key)


# --- lookups ----------------------------------------------------------------------------------


async def message_for_client_reference(
    session: AsyncSession, account_id: UUID, client_reference: str | None
) -> SendResult | None:
    if client_reference is None:
        return None
    row = (
        await session.execute(
            select(messages.c.id, messages.c.conversation_id, conversations.c.customer_id)
            .join(conversations, conversations.c.id == messages.c.conversation_id)
            .where(messages.c.account_id == account_id, messages.c.client_reference == client_reference)
        )
    ).first()
    if row is None:
        return None
    return SendResult(row.id, row.conversation_id, row.customer_id, created=False)
