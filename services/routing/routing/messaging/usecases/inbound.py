"""A customer's text arrives: find the dealership, the customer, the one active conversation;
store the message once; tell whoever should hear about it."""

from datetime import datetime, timedelta
from uuid import UUID, uuid4

import structlog
from sqlalchemy import Uuid, and_, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from routing.domain.phones import InvalidPhoneNumber, to_e164
from routing.messaging.usecases.consent import InboundText, apply_consent_keyword
from routing.messaging.usecases.last_message import first_message_values, latest_message_values
from routing.outbox import add_event
from routing.tables import (
    account_phone_numbers,
    conversations,
    customer_phones,
    customers,
    messages,
    team_members,
    timeline_events,
    users,
)
from shared.contracts.carrier import CarrierInbound
from shared.contracts.conversation import ConversationStatusChanged, MessageReceived
from shared.contracts.customer import CustomerChanged, CustomerPhone
from shared.contracts.topics import CONVERSATION_STATUS_CHANGED, CUSTOMER_CHANGED, MESSAGE_RECEIVED
from shared.db.idempotency import claim_event
from shared.kafka.consumer import PermanentError

log = structlog.get_logger(__name__)
CONSUMER = "routing.carrier_inbound"


async def record_inbound_message(session: AsyncSession, event: CarrierInbound, region: str) -> UUID | None:
    """Returns the stored message id, or None when this event or message was already stored.

    Every message pays for each statement here (a round trip each) at the full inbound rate, so
    a new customer's profile and conversation are written with what is already known instead of
    being read back."""
    if not await claim_event(session, "routing", CONSUMER, event.event_id):
        return None
    try:
        dealership_phone = to_e164(event.to_number, region)
        customer_phone = to_e164(event.from_number, region)
    except InvalidPhoneNumber as exc:
        raise PermanentError(str(exc)) from exc

    known = await _number_and_customer(session, event.account_id, dealership_phone, customer_phone)
    if known is None:
        raise PermanentError(f"{dealership_phone} is not a number of account {event.account_id}")

    message_id = uuid4()
    if known.customer_id is None:
        customer_id, name = await _new_customer(session, event.account_id, customer_phone), None
        conversation = await _new_conversation(
            session,
            event.account_id,
            customer_id,
            event.received_at,
            dealership_phone,
            inbound=True,
            first_message=first_message_values(message_id, event.received_at, "inbound", event.body),
        )
    else:
        customer_id, name = known.customer_id, known.customer_name
        conversation = await _active_conversation(
            session, event.account_id, customer_id, event.received_at, dealership_phone
        )

    stored = await session.scalar(
        insert(messages)
        .values(
            id=message_id,
            account_id=event.account_id,
            conversation_id=conversation.id,
            direction="inbound",
            body=event.body,
            attachments=[a.model_dump() for a in event.attachments],
            carrier=event.carrier,
            carrier_message_id=event.carrier_message_id,
            from_e164=customer_phone,
            to_e164=dealership_phone,
            status="received",
            source_kind="customer",
            created_at=event.received_at,
        )
        .on_conflict_do_nothing(constraint="messages_carrier_id")
        .returning(messages.c.id)
    )
    if stored is None:
        log.info("inbound message already stored", carrier_message_id=event.carrier_message_id)
        return None

    if known.customer_id is not None:  # a new conversation was created with these values
        await session.execute(
            update(conversations)
            .where(conversations.c.id == conversation.id)
            .values(
                last_activity_at=func.greatest(conversations.c.last_activity_at, event.received_at),
                last_inbound_at=event.received_at,
                # Replies leave from the number the customer last wrote to.
                dealership_e164=dealership_phone,
                **latest_message_values(message_id, event.received_at, "inbound", event.body),
            )
        )
    await add_event(
        session,
        MESSAGE_RECEIVED,
        MessageReceived(
            account_id=event.account_id,
            conversation_id=conversation.id,
            customer_id=customer_id,
            message_id=message_id,
            customer_name=name,
            customer_phone=customer_phone,
            dealership_phone=dealership_phone,
            body=event.body,
            attachments=event.attachments,
            received_at=event.received_at,
            assignee_user_id=conversation.assignee_user_id,
            assignee_team_id=conversation.assignee_team_id,
            notify_user_ids=await _audience(session, event.account_id, conversation),
        ),
        key=str(conversation.id),
    )
    # STOP / START / HELP are stored as messages like any other, and act on consent too.
    await apply_consent_keyword(
        session,
        InboundText(
            account_id=event.account_id,
            conversation_id=conversation.id,
            message_id=message_id,
            customer_e164=customer_phone,
            dealership_e164=dealership_phone,
            body=event.body,
            received_at=event.received_at,
        ),
    )
    return message_id


async def _number_and_customer(session: AsyncSession, account_id: UUID, dealership_phone: str, e164: str):
    """One round trip: None when the dealership number is not the account's; otherwise the
    customer who has `e164` (customer_id None for a new one) and their display name."""
    phone = customer_phones.alias("phone")
    return (
        await session.execute(
            select(
                phone.c.customer_id,
                func.nullif(func.concat_ws(" ", customers.c.first_name, customers.c.last_name), "").label(
                    "customer_name"
                ),
            )
            .select_from(
                account_phone_numbers.outerjoin(
                    phone,
                    and_(phone.c.account_id == account_phone_numbers.c.account_id, phone.c.e164 == e164),
                ).outerjoin(customers, customers.c.id == phone.c.customer_id)
            )
            .where(
                account_phone_numbers.c.account_id == account_id,
                account_phone_numbers.c.e164 == dealership_phone,
            )
            .limit(1)
        )
    ).first()


async def _new_customer(session: AsyncSession, account_id: UUID, e164: str) -> UUID:
    customer_id = uuid4()
    # Profile and phone in one statement. Someone who texts us can receive texts: the number is
    # a mobile until a carrier says otherwise.
    profile = (
        customers.insert()
        .values(id=customer_id, account_id=account_id)
        .returning(customers.c.id)
        .cte("profile")
    )
    claimed = await session.scalar(
        insert(customer_phones)
        .from_select(
            ["id", "account_id", "customer_id", "e164", "kind"],
            select(
                literal(uuid4(), Uuid),
                literal(account_id, Uuid),
                profile.c.id,
                literal(e164),
                literal("mobile"),
            ),
        )
        .on_conflict_do_nothing()
        .returning(customer_phones.c.customer_id)
    )
    if claimed is None:  # another message from the same number won the race
        raise RuntimeError("customer created concurrently; retry")
    # The whole profile is what was just written: no need to read it back.
    changed = CustomerChanged(
        account_id=account_id,
        customer_id=customer_id,
        phones=[CustomerPhone(e164=e164, kind="mobile")],
        reason="created",
    )
    await add_event(session, CUSTOMER_CHANGED, changed, key=changed.partition_key)
    return customer_id


async def _new_conversation(
    session: AsyncSession,
    account_id: UUID,
    customer_id: UUID,
    at: datetime,
    dealership_phone: str,
    *,
    inbound: bool,
    first_message: dict | None = None,
):
    """Inserted and returned in one statement. A concurrent one for the same customer violates
    the one-active-conversation index and the handler is retried (it then finds that one)."""
    return (
        await session.execute(
            conversations.insert()
            .values(
                id=uuid4(),
                account_id=account_id,
                customer_id=customer_id,
                status="open",
                dealership_e164=dealership_phone,
                last_activity_at=at,
                last_inbound_at=at if inbound else None,
                **(first_message or {}),
            )
            .returning(*conversations.c)
        )
    ).one()


async def _active_conversation(
    session: AsyncSession, account_id: UUID, customer_id: UUID, at: datetime, dealership_phone: str
):
    row = (
        await session.execute(
            select(conversations)
            .where(
                conversations.c.account_id == account_id,
                conversations.c.customer_id == customer_id,
                conversations.c.status != "archived",
            )
            .with_for_update()
        )
    ).first()
    if row is None:
        return await _new_conversation(session, account_id, customer_id, at, dealership_phone, inbound=False)
    if row.status == "closed":
        await session.execute(update(conversations).where(conversations.c.id == row.id).values(status="open"))
        await _record_reopened_by_message(session, account_id, row.id, at)
    return row


async def _record_reopened_by_message(
    session: AsyncSession, account_id: UUID, conversation_id: UUID, at: datetime
) -> None:
    await session.execute(
        timeline_events.insert().values(
            id=uuid4(),
            account_id=account_id,
            conversation_id=conversation_id,
            kind="reopened",
            data={"previous_status": "closed", "reason": "message_received"},
            # Just before the message that reopened it, so the timeline shows them in that order.
            created_at=at - timedelta(microseconds=1),
        )
    )
    event = ConversationStatusChanged(
        account_id=account_id,
        conversation_id=conversation_id,
        status="open",
        previous_status="closed",
        reason="message_received",
    )
    await add_event(session, CONVERSATION_STATUS_CHANGED, event, key=event.partition_key)


async def _audience(session: AsyncSession, account_id: UUID, conversation) -> list[UUID]:
    """The assignee; each member of the assigned team; nobody assigned: the account's admins."""
    if conversation.assignee_user_id:
        return [conversation.assignee_user_id]
    if conversation.assignee_team_id:
        query = select(team_members.c.user_id).where(team_members.c.team_id == conversation.assignee_team_id)
    else:
        query = select(users.c.id).where(
            and_(users.c.account_id == account_id, users.c.role == "admin", users.c.active)
        )
    return list((await session.scalars(query)).all())
