"""Which customers an automation, a campaign or an appointment texted ("View results"): one row
per customer, their latest message from that source with its delivery status, and a link to
their conversation. Scoped to the account; read through the `messages_source` index."""

from uuid import UUID

from sqlalchemy import func, literal, select, tuple_
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from routing.cursors import decode_cursor, encode_cursor
from routing.domain.outbound import error_text
from routing.tables import conversations, customers, messages


def conversation_link(conversation_id: UUID) -> str:
    return f"/conversations/{conversation_id}"


async def reached_customers(
    session: AsyncSession,
    account_id: UUID,
    source_kind: str,
    source_id: str,
    limit: int,
    cursor: str | None = None,
) -> tuple[list[dict], str | None]:
    """Latest first; raises routing.cursors.InvalidCursor."""
    m = messages.c
    latest_per_customer = (
        select(
            m.id.label("message_id"),
            m.conversation_id,
            conversations.c.customer_id,
            func.nullif(func.concat_ws(" ", customers.c.first_name, customers.c.last_name), "").label(
                "customer_name"
            ),
            m.to_e164.label("customer_phone"),
            m.status,
            m.error_category,
            m.created_at.label("sent_at"),
        )
        .join(conversations, conversations.c.id == m.conversation_id)
        .join(customers, customers.c.id == conversations.c.customer_id)
        .where(
            m.account_id == account_id,
            m.source_kind == source_kind,
            m.source_id == source_id,
            m.direction == "outbound",
        )
        .ext(distinct_on(conversations.c.customer_id))
        .order_by(conversations.c.customer_id, m.created_at.desc(), m.id.desc())
        .subquery("reached")
    )
    r = latest_per_customer.c
    query = select(latest_per_customer).order_by(r.sent_at.desc(), r.message_id.desc()).limit(limit + 1)
    if cursor is not None:
        at, message_id = decode_cursor(cursor)
        query = query.where(tuple_(r.sent_at, r.message_id) < tuple_(literal(at), literal(message_id)))
    rows = [dict(row._mapping) for row in await session.execute(query)]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1]["sent_at"], rows[-1]["message_id"])
    for row in rows:
        row["conversation_link"] = conversation_link(row["conversation_id"])
        row["error_text"] = error_text(row["error_category"], row["status"])
    return rows, next_cursor
