"""The read side of customer profiles: search, one profile with its numbers and conversations,
its internal notes. Every query is scoped to the caller's account."""

import base64
import binascii
import contextlib
import json
from uuid import UUID

from sqlalchemy import ColumnElement, and_, exists, func, literal, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from routing.cursors import InvalidCursor, decode_cursor, encode_cursor
from routing.domain.phones import InvalidPhoneNumber, digits_of, national_format, to_e164
from routing.tables import conversations, customer_notes, customer_phones, customers, opt_outs, users

# --- search -----------------------------------------------------------------------------------


def _sort_key() -> tuple[ColumnElement, ...]:
    """Alphabetical by last then first name, case-insensitive; customers with no name at all
    (people who texted in and were never named) after everyone else; id breaks ties."""
    c = customers.c
    return (
        and_(c.first_name.is_(None), c.last_name.is_(None)),
        func.lower(func.coalesce(c.last_name, "")),
        func.lower(func.coalesce(c.first_name, "")),
        c.id,
    )


def _encode_search_cursor(row: dict) -> str:
    raw = json.dumps([row["_unnamed"], row["_last"], row["_first"], str(row["id"])]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_search_cursor(cursor: str) -> tuple[bool, str, str, UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        unnamed, last, first, row_id = json.loads(raw)
        if not (isinstance(unnamed, bool) and isinstance(last, str) and isinstance(first, str)):
            raise ValueError("wrong cursor fields")
        return unnamed, last, first, UUID(row_id)
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError) as exc:
        raise InvalidCursor("the cursor is not one this API returned") from exc


def _matches(q: str, default_region: str) -> ColumnElement:
    """Text with letters searches names: every word must start the first or the last name
    ("jo tr" finds Jo Tremblay). Text without letters searches numbers by their digits, whatever
    the punctuation ("(514) 555-01"); digits typed with a national trunk prefix also match
    without it ("06 12 34 56 78" finds +33612345678, "07911 123456" finds +447911123456); and
    a whole number is parsed in the service's default region."""
    digits = digits_of(q)
    if any(ch.isalpha() for ch in q) or not digits:
        words = q.lower().split()
        return and_(
            *(
                or_(
                    func.lower(customers.c.first_name).startswith(word, autoescape=True),
                    func.lower(customers.c.last_name).startswith(word, autoescape=True),
                )
                for word in words
            )
        )
    phone = customer_phones.c
    number_matches = phone.e164.contains(digits, autoescape=True)
    without_trunk_prefix = digits.lstrip("0")
    if without_trunk_prefix != digits and len(without_trunk_prefix) >= 6:
        number_matches = or_(number_matches, phone.e164.contains(without_trunk_prefix, autoescape=True))
    with contextlib.suppress(InvalidPhoneNumber):
        number_matches = or_(number_matches, phone.e164 == to_e164(q, default_region))
    return exists().where(phone.customer_id == customers.c.id, number_matches)


async def search_customers(
    session: AsyncSession,
    account_id: UUID,
    q: str | None,
    limit: int,
    cursor: str | None,
    default_region: str,
) -> tuple[list[dict], str | None]:
    """One page of customers in name order, with their numbers, and the next page's cursor."""
    unnamed, last, first, row_id = _sort_key()
    query = (
        select(
            customers,
            unnamed.label("_unnamed"),
            last.label("_last"),
            first.label("_first"),
        )
        # A profile merged into another one lives on only through the survivor.
        .where(customers.c.account_id == account_id, customers.c.merged_into_customer_id.is_(None))
        .order_by(unnamed, last, first, row_id)
        .limit(limit + 1)
    )
    if q and q.strip():
        query = query.where(_matches(q.strip(), default_region))
    if cursor is not None:
        after = _decode_search_cursor(cursor)
        query = query.where(tuple_(unnamed, last, first, row_id) > tuple_(*(literal(v) for v in after)))
    rows = [dict(row._mapping) for row in await session.execute(query)]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = _encode_search_cursor(rows[-1])
    phones = await _phones_of(session, account_id, [row["id"] for row in rows])
    for row in rows:
        row["phones"] = phones.get(row["id"], [])
    return rows, next_cursor


# --- one profile ------------------------------------------------------------------------------


async def customer_detail(session: AsyncSession, account_id: UUID, customer_id: UUID) -> dict | None:
    """The profile with its numbers (each flagged when it opted out on any of the account's
    numbers), its active conversation and its archived ones (from profile merges)."""
    row = (
        await session.execute(
            select(customers).where(customers.c.id == customer_id, customers.c.account_id == account_id)
        )
    ).first()
    if row is None:
        return None
    detail = dict(row._mapping)
    detail["phones"] = (await _phones_of(session, account_id, [customer_id])).get(customer_id, [])
    found = await session.execute(
        select(conversations.c.id, conversations.c.status)
        .where(conversations.c.customer_id == customer_id, conversations.c.account_id == account_id)
        .order_by(conversations.c.created_at, conversations.c.id)
    )
    owned = list(found)
    detail["active_conversation_id"] = next((c.id for c in owned if c.status != "archived"), None)
    detail["archived_conversation_ids"] = [c.id for c in owned if c.status == "archived"]
    return detail


async def customer_exists(session: AsyncSession, account_id: UUID, customer_id: UUID) -> bool:
    found = await session.scalar(
        select(customers.c.id).where(customers.c.id == customer_id, customers.c.account_id == account_id)
    )
    return found is not None


async def _phones_of(session: AsyncSession, account_id: UUID, customer_ids: list[UUID]) -> dict[UUID, list]:
    if not customer_ids:
        return {}
    phone = customer_phones.c
    opted_out = exists().where(opt_outs.c.account_id == account_id, opt_outs.c.customer_e164 == phone.e164)
    found = await session.execute(
        select(phone.id, phone.customer_id, phone.e164, phone.kind, opted_out.label("opted_out"))
        .where(phone.account_id == account_id, phone.customer_id.in_(customer_ids))
        .order_by(phone.created_at, phone.id)
    )
    by_customer: dict[UUID, list] = {}
    for row in found:
        by_customer.setdefault(row.customer_id, []).append(
            {
                "id": row.id,
                "e164": row.e164,
                "kind": row.kind,
                "opted_out": row.opted_out,
                "national_format": national_format(row.e164),
            }
        )
    return by_customer


# --- notes ------------------------------------------------------------------------------------


async def customer_notes_page(
    session: AsyncSession, account_id: UUID, customer_id: UUID, limit: int, cursor: str | None
) -> tuple[list[dict], str | None] | None:
    """Newest first, with the author's name; None when the customer is not of the account."""
    if not await customer_exists(session, account_id, customer_id):
        return None
    n = customer_notes.c
    query = (
        select(n.id, n.customer_id, n.author_user_id, users.c.name.label("author_name"), n.body, n.created_at)
        .outerjoin(users, users.c.id == n.author_user_id)
        .where(n.customer_id == customer_id, n.account_id == account_id)
        .order_by(n.created_at.desc(), n.id.desc())
        .limit(limit + 1)
    )
    if cursor is not None:
        at, row_id = decode_cursor(cursor)
        query = query.where(tuple_(n.created_at, n.id) < tuple_(literal(at), literal(row_id)))
    rows = [dict(row._mapping) for row in await session.execute(query)]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1]["created_at"], rows[-1]["id"])
    return rows, next_cursor


async def customer_note(session: AsyncSession, account_id: UUID, note_id: UUID) -> dict | None:
    n = customer_notes.c
    row = (
        await session.execute(
            select(
                n.id, n.customer_id, n.author_user_id, users.c.name.label("author_name"), n.body, n.created_at
            )
            .outerjoin(users, users.c.id == n.author_user_id)
            .where(n.id == note_id, n.account_id == account_id)
        )
    ).first()
    return dict(row._mapping) if row else None
