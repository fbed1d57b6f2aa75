"""Which customers an automation, a campaign or an appointment texted ("View results"): one row
per customer, their latest message from that source with its delivery status, and a link to
their conversation. Scoped to the account; read through the `messages_source` index."""

import base64
import binascii
import json
from datetime import datetime
from uuid import UUID

from sqlalchemy import func, literal, select, tuple_
from sqlalchemy.dialects.postgresql import aggregate_order_by, distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from routing.cursors import InvalidCursor, decode_cursor, encode_cursor
from routing.domain.outbound import FAILURE_STATUSES, error_text
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


def encode_source_cursor(at: datetime, source_id: str) -> str:
    raw = json.dumps([at.isoformat(), source_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_source_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, source_id = json.loads(raw)
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None or not isinstance(source_id, str):
            raise ValueError("not a source cursor")
        return moment, source_id
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError) as exc:
        raise InvalidCursor("the cursor is not one this API returned") from exc


async def sources_of_kind(
    session: AsyncSession,
    account_id: UUID,
    source_kind: str,
    limit: int,
    cursor: str | None = None,
    source_ids: list[str] | None = None,
) -> tuple[list[dict], str | None]:
    """The automations (campaigns, appointments) that texted customers of the account, the one
    that texted last first: each with the name and address its system gave last, how many
    customers it reached, how many of them its latest text did not reach, and when it last
    sent. Raises routing.cursors.InvalidCursor."""
    m = messages.c
    conditions = [
        m.account_id == account_id,
        m.source_kind == source_kind,
        m.source_id.is_not(None),
        m.direction == "outbound",
    ]
    if source_ids is not None:
        conditions.append(m.source_id.in_(source_ids))
    latest_per_customer = (
        select(m.source_id, m.source_name, m.source_url, m.status, m.created_at)
        .join(conversations, conversations.c.id == m.conversation_id)
        .where(*conditions)
        .ext(distinct_on(m.source_id, conversations.c.customer_id))
        .order_by(m.source_id, conversations.c.customer_id, m.created_at.desc(), m.id.desc())
        .subquery("latest")
    )
    r = latest_per_customer.c
    per_source = (
        select(
            r.source_id.label("id"),
            func.array_agg(aggregate_order_by(r.source_name, r.created_at.desc()))[1].label("name"),
            func.array_agg(aggregate_order_by(r.source_url, r.created_at.desc()))[1].label("url"),
            func.count().label("customers_reached"),
            func.count().filter(r.status.in_(sorted(FAILURE_STATUSES))).label("undelivered"),
            func.max(r.created_at).label("last_sent_at"),
        )
        .group_by(r.source_id)
        .subquery("per_source")
    )
    s = per_source.c
    query = select(per_source).order_by(s.last_sent_at.desc(), s.id.desc()).limit(limit + 1)
    if cursor is not None:
        at, source_id = decode_source_cursor(cursor)
        query = query.where(tuple_(s.last_sent_at, s.id) < tuple_(literal(at), literal(source_id)))
    rows = [dict(row._mapping) for row in await session.execute(query)]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_source_cursor(rows[-1]["last_sent_at"], rows[-1]["id"])
    return [row | {"kind": source_kind} for row in rows], next_cursor
