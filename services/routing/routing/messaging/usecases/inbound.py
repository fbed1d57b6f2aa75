"""A customer's text arrives: find the dealership, the customer, the one active conversation;
store the message once; tell whoever should hear about it."""

from datetime import datetime, timedelta
from types import SimpleNamespace
from uuid import UUID, uuid4

import structlog
from sqlalchemy import Uuid, literal, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from routing.domain.phones import InvalidPhoneNumber, to_e164
from routing.messaging.usecases.consent import InboundText, apply_consent_keyword
from routing.messaging.usecases.inbound_statements import (
    CLAIMED_AND_KNOWN,
    KNOWN,
    STORE_IN_CONVERSATION,
    STORE_MESSAGE,
    conversation_after_inbound,
    message_values,
    store_params,
)
from routing.messaging.usecases.last_message import first_message_values
from routing.outbox import add_event
from routing.tables import (
    conversations,
    customer_phones,
    customers,
    timeline_events,
)
from shared.contracts.carrier import CarrierInbound
from shared.contracts.conversation import ConversationStatusChanged, MessageReceived
from shared.contracts.customer import CustomerChanged, CustomerPhone
from shared.contracts.topics import CONVERSATION_STATUS_CHANGED, CUSTOMER_CHANGED, MESSAGE_RECEIVED
from shared.kafka.consumer import PermanentError

log = structlog.get_logger(__name__)
CONSUMER = "routing.carrier_inbound"


def numbers_of(event: CarrierInbound, region: str) -> tuple[str, str]:
    """The dealership's and the customer's numbers, E.164."""
    try:
        return to_e164(event.to_number, region), to_e164(event.from_number, region)
    except InvalidPhoneNumber as exc:
        raise PermanentError(str(exc)) from exc


async def record_inbound_message(
    session: AsyncSession, event: CarrierInbound, region: str, *, claimed: bool = False
) -> UUID | None:
    """Returns the stored message id, or None when this event or message was already stored.
    `claimed`: the caller claimed the event already (record_inbound_batch).

    Every message pays for each statement here (a round trip each) at the full inbound rate, so
    a text in an open conversation costs two: the number, customer, conversation (locked) and
    audience are read together, and the message is stored with the conversation's update; a new
    customer's profile and conversation are written with what is already known instead of
    being read back."""
    dealership_phone, customer_phone = numbers_of(event, region)

    where = {"account": event.account_id, "dealership": dealership_phone, "customer": customer_phone}
    if claimed:
        known = await KNOWN.first(session, where)
    else:
        claim = {"consumer": CONSUMER, "event_id": event.event_id}
        known = (await session.execute(CLAIMED_AND_KNOWN, {**where, **claim})).one()
        if not known.claimed:
            return None
    if known is None or not known.found:
        raise PermanentError(f"{dealership_phone} is not a number of account {event.account_id}")

    message_id = uuid4()
    values = message_values(message_id, event, customer_phone, dealership_phone)
    if known.conversation_id is not None and known.status == "open":
        # The common case: the customer's conversation is open; message and conversation in one
        # statement (the conversation is updated only if the message was new).
        customer_id, name, conversation = known.customer_id, known.customer_name, known
        conversation_id = known.conversation_id
        stored = await STORE_IN_CONVERSATION.scalar(session, store_params(values, conversation_id))
    else:
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
                session, event.account_id, customer_id, event.received_at, dealership_phone, known
            )
        conversation_id = conversation.id
        stored = await session.scalar(STORE_MESSAGE, store_params(values, conversation_id))
        if stored is not None and known.customer_id is not None:  # else created with these values
            await session.execute(
                update(conversations)
                .where(conversations.c.id == conversation_id)
                .values(**conversation_after_inbound(values))
            )
    if stored is None:
        log.info("inbound message already stored", carrier_message_id=event.carrier_message_id)
        return None

    await tell_received(session, event, values, conversation_id, conversation, known, customer_id, name)
    return message_id


async def tell_received(
    session: AsyncSession,
    event: CarrierInbound,
    values: dict,
    conversation_id: UUID,
    conversation,
    known,
    customer_id: UUID | None = None,
    name: str | None = None,
) -> None:
    """The stored message's event, and the consent keyword it is, if any. `customer_id` and
    `name`: `known`'s unless given (a customer just created)."""
    if customer_id is None:
        customer_id, name = known.customer_id, known.customer_name
    await add_event(
        session,
        MESSAGE_RECEIVED,
        MessageReceived(
            account_id=event.account_id,
            conversation_id=conversation_id,
            customer_id=customer_id,
            message_id=values["id"],
            customer_name=name,
            customer_phone=values["from_e164"],
            dealership_phone=values["to_e164"],
            body=event.body,
            attachments=event.attachments,
            received_at=event.received_at,
            assignee_user_id=conversation.assignee_user_id,
            assignee_team_id=conversation.assignee_team_id,
            # Read with the conversation: its assignee, its team's members, or the admins.
            notify_user_ids=list(known.audience or ()),
        ),
        key=str(conversation_id),
    )
    # STOP / START / HELP are stored as messages like any other, and act on consent too.
    await apply_consent_keyword(
        session,
        InboundText(
            account_id=event.account_id,
            conversation_id=conversation_id,
            message_id=values["id"],
            customer_e164=values["from_e164"],
            dealership_e164=values["to_e164"],
            body=event.body,
            received_at=event.received_at,
        ),
    )


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
    await tell_customer_created(session, account_id, customer_id, e164)
    return customer_id


async def tell_customer_created(
    session: AsyncSession, account_id: UUID, customer_id: UUID, e164: str
) -> None:
    # The whole profile is what was just written: no need to read it back.
    changed = CustomerChanged(
        account_id=account_id,
        customer_id=customer_id,
        phones=[CustomerPhone(e164=e164, kind="mobile")],
        reason="created",
    )
    await add_event(session, CUSTOMER_CHANGED, changed, key=changed.partition_key)


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
    session: AsyncSession, account_id: UUID, customer_id: UUID, at: datetime, dealership_phone: str, known
):
    """The customer's conversation that `known` found and locked (reopened if closed), or a new one."""
    if known.conversation_id is None:
        return await _new_conversation(session, account_id, customer_id, at, dealership_phone, inbound=False)
    if known.status == "closed":
        await session.execute(
            update(conversations).where(conversations.c.id == known.conversation_id).values(status="open")
        )
        await _record_reopened_by_message(session, account_id, known.conversation_id, at)
    return SimpleNamespace(
        id=known.conversation_id,
        assignee_user_id=known.assignee_user_id,
        assignee_team_id=known.assignee_team_id,
    )


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
    await tell_reopened(session, account_id, conversation_id)


async def tell_reopened(session: AsyncSession, account_id: UUID, conversation_id: UUID) -> None:
    event = ConversationStatusChanged(
        account_id=account_id,
        conversation_id=conversation_id,
        status="open",
        previous_status="closed",
        reason="message_received",
    )
    await add_event(session, CONVERSATION_STATUS_CHANGED, event, key=event.partition_key)
