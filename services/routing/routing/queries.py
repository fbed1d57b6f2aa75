"""The read side: what staff see. Every query starts from the caller's account."""

from uuid import UUID

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from routing.tables import conversations, customer_phones, customers, messages


def conversations_of(account_id: UUID) -> Select:
    return select(conversations).where(conversations.c.account_id == account_id)


async def list_conversations(session: AsyncSession, account_id: UUID, limit: int) -> list[dict]:
    phone = (
        select(func.min(customer_phones.c.e164))
        .where(customer_phones.c.customer_id == conversations.c.customer_id)
        .scalar_subquery()
    )
    query = (
        conversations_of(account_id)
        .add_columns(customers.c.first_name, customers.c.last_name, phone.label("customer_phone"))
        .join(customers, customers.c.id == conversations.c.customer_id)
        .order_by(conversations.c.last_activity_at.desc(), conversations.c.id.desc())
        .limit(limit)
    )
    return [dict(row._mapping) for row in await session.execute(query)]


async def conversation_messages(
    session: AsyncSession, account_id: UUID, conversation_id: UUID, limit: int
) -> list[dict] | None:
    exists = await session.scalar(
        conversations_of(account_id)
        .with_only_columns(conversations.c.id)
        .where(conversations.c.id == conversation_id)
    )
    if exists is None:
        return None
    query = (
        select(messages)
        .where(messages.c.account_id == account_id, messages.c.conversation_id == conversation_id)
        .order_by(messages.c.created_at, messages.c.id)
        .limit(limit)
    )
    return [dict(row._mapping) for row in await session.execute(query)]
