"""search's projection queries; every read is scoped by account."""

from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts.conversation import MessageReceived


async def index_message(session: AsyncSession, event: MessageReceived) -> None:
    await session.execute(
        text(
            "INSERT INTO search.messages (message_id, account_id, conversation_id, customer_id,"
            " customer_name, customer_phone, body, sent_at)"
            " VALUES (:m, :a, :c, :cu, :n, :p, :b, :t) ON CONFLICT (message_id) DO NOTHING"
        ),
        {
            "m": event.message_id,
            "a": event.account_id,
            "c": event.conversation_id,
            "cu": event.customer_id,
            "n": event.customer_name,
            "p": event.customer_phone,
            "b": event.body,
            "t": event.received_at,
        },
    )


async def search_messages(session: AsyncSession, account_id: UUID, query: str, limit: int) -> list[dict]:
    rows = await session.execute(
        text(
            "SELECT message_id, conversation_id, customer_id, customer_name, customer_phone, body, sent_at"
            " FROM search.messages WHERE account_id = :a"
            " AND body_tsv @@ plainto_tsquery('simple', :q) ORDER BY sent_at DESC LIMIT :limit"
        ),
        {"a": account_id, "q": query, "limit": limit},
    )
    return [dict(row._mapping) for row in rows]
