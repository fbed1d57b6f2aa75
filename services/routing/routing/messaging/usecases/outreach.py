"""Starting a conversation from an appointment, an automation result or a campaign result: the
customer is found (or created from a phone number), their one active conversation found (or
opened), and the text goes the way every outbound text goes (send.py). Staff do it
through the API; other systems through `messaging.send_requested.v1`, where a request that can
never be sent is a PermanentError with the reason, for the dead-letter topic."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import Row, delete, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from routing.customers.usecases import emit_customer_changed
from routing.domain.phones import InvalidPhoneNumber, phone_kind, to_e164
from routing.messaging.usecases.composer import first_account_number
from routing.messaging.usecases.errors import CannotSend, InvalidMessage, RecipientNotFound
from routing.messaging.usecases.send import (
    Outgoing,
    SendResult,
    message_for_client_reference,
    send_in_conversation,
)
from routing.tables import conversations, customer_phones, customers, users
from shared.contracts.messaging import SendRequested
from shared.kafka.consumer import PermanentError


@dataclass(frozen=True)
class Recipient:
    """Who to start a conversation with: a customer of the account, or a phone number (the
    customer is found by it, or created)."""

    customer_id: UUID | None = None
    phone: str | None = None


# --- starting a conversation from a source ----------------------------------------------------


async def start_conversation(
    session: AsyncSession,
    account_id: UUID,
    recipient: Recipient,
    sender_user_id: UUID | None,
    outgoing: Outgoing,
    region: str,
    now: datetime,
) -> SendResult:
    """Finds the customer (or creates one from the phone number), finds or opens their one active
    conversation, and sends in it. Raises RecipientNotFound, CannotSend, InvalidMessage."""
    earlier = await message_for_client_reference(session, account_id, outgoing.client_reference)
    if earlier:
        return earlier
    if (recipient.customer_id is None) == (recipient.phone is None):
        raise InvalidMessage("give exactly one of customer_id and customer_phone", "customer_id")
    if recipient.customer_id is not None:
        # A profile merged away lives on in the one it was merged into (links and automations
        # may still hold the old id), so the text goes to the survivor's conversation.
        customer_id = await session.scalar(
            select(func.coalesce(customers.c.merged_into_customer_id, customers.c.id)).where(
                customers.c.id == recipient.customer_id, customers.c.account_id == account_id
            )
        )
        if customer_id is None:
            raise RecipientNotFound("customer not found")
    else:
        try:
            e164 = to_e164(recipient.phone or "", region)
        except InvalidPhoneNumber as exc:
            raise InvalidMessage(str(exc), "customer_phone", "invalid_phone_number") from exc
        customer_id = await _customer_with_phone(session, account_id, e164, now)
    conversation = await _active_conversation(session, account_id, customer_id, now)
    return await send_in_conversation(session, account_id, conversation, sender_user_id, outgoing, now)


async def _customer_with_phone(session: AsyncSession, account_id: UUID, e164: str, now: datetime) -> UUID:
    """The customer holding `e164`, or a new one. Two sends to the same new number at once:
    the unique (account_id, e164) picks one customer and the loser joins it."""
    existing = await _phone_owner(session, account_id, e164)
    if existing:
        return existing
    customer_id = uuid4()
    await session.execute(
        customers.insert().values(id=customer_id, account_id=account_id, created_at=now, updated_at=now)
    )
    claimed = await session.scalar(
        insert(customer_phones)
        .values(
            id=uuid4(),
            account_id=account_id,
            customer_id=customer_id,
            e164=e164,
            kind=phone_kind(e164),
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["account_id", "e164"])
        .returning(customer_phones.c.customer_id)
    )
    if claimed:
        # A new profile, as when someone texts in: search and the others hear of it.
        await emit_customer_changed(session, account_id, customer_id, "created")
        return customer_id
    await session.execute(delete(customers).where(customers.c.id == customer_id))
    winner = await _phone_owner(session, account_id, e164)
    if winner is None:  # the winner's number was removed in between: let the caller retry
        raise RuntimeError(f"{e164} changed owner while being claimed; retry")
    return winner


async def _phone_owner(session: AsyncSession, account_id: UUID, e164: str) -> UUID | None:
    return await session.scalar(
        select(customer_phones.c.customer_id).where(
            customer_phones.c.account_id == account_id, customer_phones.c.e164 == e164
        )
    )


async def _active_conversation(
    session: AsyncSession, account_id: UUID, customer_id: UUID, now: datetime
) -> Row:
    """The customer's one active (not archived) conversation, locked; opened when there is none.
    The unique index `conversations_one_active` settles two openings at once."""
    for _ in range(2):
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
        if row is not None:
            return row
        await session.execute(
            insert(conversations)
            .values(
                id=uuid4(),
                account_id=account_id,
                customer_id=customer_id,
                status="open",
                dealership_e164=await first_account_number(session, account_id),
                last_activity_at=now,
                created_at=now,
            )
            .on_conflict_do_nothing(
                # Written out, not a bound parameter: PostgreSQL matches the partial index by its
                # predicate, which it cannot do against a parameter once asyncpg's prepared
                # statement switches to a generic plan (from the sixth execution on a connection).
                index_elements=["customer_id"],
                index_where=text("status <> 'archived'"),
            )
        )
    raise RuntimeError("the customer's active conversation changed while being opened; retry")


# --- requests from other systems ---------------------------------------------------------------


async def send_requested(
    session: AsyncSession, event: SendRequested, region: str, now: datetime
) -> SendResult:
    """`messaging.send_requested.v1`: the same path as the API, idempotent on `request_id`. A
    request that can never be sent raises PermanentError with the reason, for the dead-letter
    topic; nothing is stored."""
    account = event.account_id
    if event.sender_user_id is not None and not await active_sender(session, account, event.sender_user_id):
        raise PermanentError(f"sender {event.sender_user_id} is not an active user of account {account}")
    outgoing = Outgoing(
        body=event.body,
        saved_reply_id=event.saved_reply_id,
        variables=dict(event.variables),
        source=event.source,
        client_reference=event.request_id,
    )
    recipient = Recipient(event.customer_id, event.customer_phone)
    try:
        return await start_conversation(
            session, account, recipient, event.sender_user_id, outgoing, region, now
        )
    except RecipientNotFound as exc:
        raise PermanentError(f"customer {event.customer_id} is not a customer of account {account}") from exc
    except CannotSend as exc:
        raise PermanentError(f"cannot text this customer ({exc.reason}): {exc}") from exc
    except InvalidMessage as exc:
        raise PermanentError(f"invalid {exc.field}: {exc}") from exc


async def active_sender(session: AsyncSession, account_id: UUID, user_id: UUID) -> bool:
    """A staff member of the account who may still send (not deactivated)."""
    found = await session.scalar(
        select(users.c.id).where(users.c.id == user_id, users.c.account_id == account_id, users.c.active)
    )
    return found is not None
