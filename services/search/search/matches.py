"""The second step of a search page (queries.py finds the customers): for the customers of one
page only, their phones, what matched (at most MATCHES_PER_KIND of each kind) and the
conversation each match opens. Every statement is scoped by the caller's account."""

from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from search.domain.query import ParsedQuery, fold
from search.queries import (
    DMS_JOIN,
    MATCHES_PER_KIND,
    STATUSES,
    CustomerHit,
    Match,
    StatusFilter,
    message_match,
)


async def describe_matches(
    session: AsyncSession, account_id: UUID, query: ParsedQuery, status: StatusFilter, hits: list[CustomerHit]
) -> None:
    """Fills in phones, what matched and the conversation to open, for one page of customers."""
    if not hits:
        return
    by_key = {hit.customer_id: hit for hit in hits}
    params: dict = {"a": account_id, "keys": list(by_key)}
    # Every profile of each customer (itself and those merged into it), with its phones.
    member_rows, seen = [], set()
    for row in await session.execute(
        text(
            "SELECT c.customer_id, coalesce(c.merged_into_customer_id, c.customer_id) AS ck,"
            " c.display_name, c.email, p.e164, p.kind FROM search.customers c"
            " LEFT JOIN search.customer_phones p ON p.customer_id = c.customer_id AND p.account_id = :a"
            " WHERE c.account_id = :a"
            " AND (c.customer_id = ANY(:keys) OR c.merged_into_customer_id = ANY(:keys)) ORDER BY p.e164"
        ),
        params,
    ):
        if row.customer_id not in seen:
            seen.add(row.customer_id)
            member_rows.append(row)
        if row.e164 is not None:
            by_key[row.ck].phones.append((row.e164, row.kind))
    params["members"] = [r.customer_id for r in member_rows]
    owner = {r.customer_id: r.ck for r in member_rows}

    status_sql = "true"
    if status != "all":
        params["statuses"] = list(STATUSES[status])
        status_sql = "v.status = ANY(:statuses)"
    # The conversation a customer-level match opens: an open one first, else the latest.
    for row in await session.execute(
        text(
            "SELECT DISTINCT ON (ck) ck, conversation_id FROM ("
            " SELECT coalesce(c.merged_into_customer_id, c.customer_id) AS ck, v.conversation_id,"
            "  v.status, v.last_activity_at FROM search.conversations v"
            "  JOIN search.customers c ON c.customer_id = v.customer_id"
            f"  WHERE v.account_id = :a AND v.customer_id = ANY(:members) AND {status_sql}) x"
            " ORDER BY ck, (status = 'open') DESC, last_activity_at DESC"
        ),
        params,
    ):
        by_key[row.ck].conversation_id = row.conversation_id

    await _name_and_phone_matches(query, member_rows, by_key)
    await _dms_matches(session, query, params, owner, by_key)
    await _message_matches(session, query, params, owner, by_key, status)


async def _name_and_phone_matches(query: ParsedQuery, member_rows, by_key: dict[UUID, CustomerHit]) -> None:
    name_words = [w for w in query.words if len(w) >= 2]
    if name_words:
        for row in member_rows:
            folded = fold(row.display_name or "")
            if row.display_name and all(w in folded for w in name_words):
                hit = by_key[row.ck]
                hit.matches.append(Match("name", row.display_name, hit.conversation_id))
    if query.email_prefix:
        for row in member_rows:
            if row.email and row.email.strip().lower().startswith(query.email_prefix):
                hit = by_key[row.ck]
                hit.matches.append(Match("email", row.email.strip(), hit.conversation_id))
    if query.phone_digits:
        for hit in by_key.values():
            for e164, _kind in hit.phones:
                if query.phone_digits in "".join(ch for ch in e164 if ch.isdigit()):
                    hit.matches.append(Match("phone", e164, hit.conversation_id))


async def _dms_matches(session: AsyncSession, query: ParsedQuery, params: dict, owner, by_key) -> None:
    dms = DMS_JOIN.format(t="r") + " AND c.customer_id = ANY(:members)"
    if query.vin_range:
        params["vin_lo"], params["vin_hi"] = query.vin_range
        for row in await session.execute(
            text(
                "SELECT DISTINCT c.customer_id, r.vin, r.ro_number FROM search.repair_orders r"
                f" JOIN search.customers c ON {dms}"
                " WHERE r.account_id = :a AND r.vin_reversed >= :vin_lo AND r.vin_reversed < :vin_hi"
                " ORDER BY r.ro_number"
            ),
            params,
        ):
            hit = by_key[owner[row.customer_id]]
            _add(hit, Match("vin", row.vin, hit.conversation_id, detail=f"vehicle on RO {row.ro_number}"))
    if query.ro_range:
        params["ro_lo"], params["ro_hi"] = query.ro_range
        for row in await session.execute(
            text(
                "SELECT DISTINCT c.customer_id, r.ro_number, r.status, r.vin FROM search.repair_orders r"
                f" JOIN search.customers c ON {dms}"
                " WHERE r.account_id = :a AND r.ro_compact >= :ro_lo AND r.ro_compact < :ro_hi"
                " ORDER BY r.ro_number"
            ),
            params,
        ):
            hit = by_key[owner[row.customer_id]]
            detail = f"repair order, {row.status}" + (f", VIN {row.vin}" if row.vin else "")
            _add(hit, Match("ro", row.ro_number, hit.conversation_id, detail=detail))
    if query.amount is not None:
        params["amount"] = query.amount
        for row in await session.execute(
            text(
                "SELECT DISTINCT c.customer_id, r.amount, r.currency, r.ro_number, r.paid_at"
                f" FROM search.payments r JOIN search.customers c ON {dms}"
                " WHERE r.account_id = :a AND r.amount = :amount ORDER BY r.paid_at DESC NULLS LAST"
            ),
            params,
        ):
            hit = by_key[owner[row.customer_id]]
            detail = f"payment {row.currency}" + (f" for RO {row.ro_number}" if row.ro_number else "")
            _add(
                hit, Match("payment", f"{row.amount:.2f}", hit.conversation_id, at=row.paid_at, detail=detail)
            )
    phrase = " ".join(query.words)
    if len(phrase) >= 3 and any(ch.isalpha() for ch in phrase):
        params["phrase"] = f"%{phrase}%"
        for row in await session.execute(
            text(
                "SELECT DISTINCT c.customer_id, r.appointment_type, r.starts_at, r.cancelled"
                f" FROM search.appointments r JOIN search.customers c ON {dms}"
                " WHERE r.account_id = :a AND r.type_folded LIKE :phrase ORDER BY r.starts_at DESC"
            ),
            params,
        ):
            hit = by_key[owner[row.customer_id]]
            detail = "appointment, cancelled" if row.cancelled else "appointment"
            _add(hit, Match("appointment", row.appointment_type, hit.conversation_id, row.starts_at, detail))


async def _message_matches(
    session: AsyncSession, query: ParsedQuery, params: dict, owner, by_key, status: StatusFilter
) -> None:
    if not query.words:
        return
    params["prefix"] = query.message_prefix_query
    params["words"] = " ".join(query.words)
    rows = await session.execute(
        text(
            "SELECT customer_id, conversation_id, body, sent_at, direction FROM ("
            " SELECT m.customer_id, m.conversation_id, m.body, m.sent_at, m.direction,"
            "  row_number() OVER (PARTITION BY m.customer_id ORDER BY m.sent_at DESC) AS n"
            " FROM search.messages m"
            " WHERE m.account_id = :a AND m.customer_id = ANY(:members)"
            f" AND {'true' if status == 'all' else 'm.conversation_status = ANY(:statuses)'}"
            f" AND {message_match()}) x"
            " WHERE n <= :per_kind ORDER BY sent_at DESC"
        ),
        {**params, "per_kind": MATCHES_PER_KIND},
    )
    for row in rows:
        hit = by_key[owner[row.customer_id]]
        _add(hit, Match("message", row.body, row.conversation_id, row.sent_at, row.direction))


def _add(hit: CustomerHit, match: Match) -> None:
    if sum(1 for m in hit.matches if m.kind == match.kind) < MATCHES_PER_KIND:
        hit.matches.append(match)
