"""The composer: whether staff can text the customer of a conversation, from which number to
which (domain/composer.py decides from what is read here)."""

from uuid import UUID

from sqlalchemy import Row, case, select
from sqlalchemy.ext.asyncio import AsyncSession

from routing.auth.suspension import is_suspended
from routing.domain.composer import ComposerState, composer_state
from routing.messaging.usecases.errors import RecipientNotFound
from routing.tables import account_phone_numbers, conversations, customer_phones, messages, opt_outs


async def composer_for(session: AsyncSession, account_id: UUID, conversation_id: UUID) -> ComposerState:
    """Raises RecipientNotFound."""
    conversation = await load_conversation(session, account_id, conversation_id, lock=False)
    return await conversation_composer(session, account_id, conversation)


async def conversation_composer(session: AsyncSession, account_id: UUID, conversation: Row) -> ComposerState:
    from_number = await sending_number(session, account_id, conversation.dealership_e164)
    phones = (
        await session.execute(
            select(customer_phones.c.e164, customer_phones.c.kind)
            .where(
                customer_phones.c.account_id == account_id,
                customer_phones.c.customer_id == conversation.customer_id,
            )
            .order_by(customer_phones.c.created_at, customer_phones.c.id)
        )
    ).all()
    opted_out: set[str] = set()
    if from_number and phones:
        opted_out = set(
            await session.scalars(
                select(opt_outs.c.customer_e164).where(
                    opt_outs.c.account_id == account_id,
                    opt_outs.c.dealership_e164 == from_number,
                    opt_outs.c.customer_e164.in_([p.e164 for p in phones]),
                )
            )
        )
    # Answer on the number the customer last wrote from, when it can still be texted.
    last_from = await session.scalar(
        select(messages.c.from_e164)
        .where(
            messages.c.account_id == account_id,
            messages.c.conversation_id == conversation.id,
            messages.c.direction == "inbound",
        )
        .order_by(messages.c.created_at.desc(), messages.c.id.desc())
        .limit(1)
    )
    # A suspended dealership sends nothing (staff, automatic answers, other systems' requests).
    suspended = await is_suspended(session, account_id)
    return composer_state(conversation.status, phones, opted_out, from_number, last_from, suspended)


async def first_account_number(session: AsyncSession, account_id: UUID) -> str | None:
    return await sending_number(session, account_id, None)


async def sending_number(session: AsyncSession, account_id: UUID, preferred: str | None) -> str | None:
    """`preferred` (the number the customer last wrote to) while the account still has it, else
    the account's first number; None when the account has no number at all."""
    n = account_phone_numbers.c
    return await session.scalar(
        select(n.e164)
        .where(n.account_id == account_id)
        .order_by(case((n.e164 == preferred, 0), else_=1), n.created_at, n.e164)
        .limit(1)
    )


async def load_conversation(
    session: AsyncSession, account_id: UUID, conversation_id: UUID, lock: bool
) -> Row:
    query = select(conversations).where(
        conversations.c.id == conversation_id, conversations.c.account_id == account_id
    )
    row = (await session.execute(query.with_for_update() if lock else query)).first()
    if row is None:
        raise RecipientNotFound("conversation not found")
    return row
