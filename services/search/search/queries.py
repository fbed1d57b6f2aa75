"""Reads the projection for the query box. Every statement is scoped by the caller's account.

A page is built in two steps: first which customers match (here: each reading of the query gives
candidate customers, merged profiles count as the profile they were merged into), ordered by
the customer's last activity with a keyset cursor; then, for the customers of that page only,
what matched and in which conversation (matches.py)."""

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from search.domain.query import ParsedQuery

StatusFilter = Literal["open", "closed", "all"]
MatchKind = Literal["name", "phone", "email", "message", "ro", "vin", "payment", "appointment"]

# "closed" also shows archived conversations (merged profiles): both are done, both searchable.
STATUSES: dict[str, tuple[str, ...]] = {"open": ("open",), "closed": ("closed", "archived")}
# How many matches of one kind are shown per customer.
MATCHES_PER_KIND = 3

# DMS records name their customer by DMS id; routing's profile carries it.
DMS_JOIN = "c.account_id = {t}.account_id AND c.dms_customer_id = {t}.dms_customer_id"


@dataclass(frozen=True)
class Cursor:
    last_activity_at: datetime
    customer_id: UUID


@dataclass
class Match:
    kind: MatchKind
    text: str
    conversation_id: UUID | None = None
    at: datetime | None = None
    detail: str | None = None


@dataclass
class CustomerHit:
    customer_id: UUID
    name: str | None
    last_activity_at: datetime
    phones: list[tuple[str, str]] = field(default_factory=list)
    matches: list[Match] = field(default_factory=list)
    # The conversation a customer-level match (name, phone, DMS record) links to.
    conversation_id: UUID | None = None


def message_match(alias: str = "m") -> str:
    """The words (the last one as a prefix), or their English or French stems. Three `@@` tests
    rather than one of the three queries OR-ed together: each is then its own GIN scan that skips
    along its rarest word ("brake inspection": `inspection` is rare), where the combined query has
    no word every branch needs and reads the whole posting list of a common one (~10 ms for
    `brake`)."""
    tsv = f"{alias}.body_tsv"
    return (
        f"({tsv} @@ to_tsquery('simple', :prefix) OR {tsv} @@ plainto_tsquery('english', :words)"
        f" OR {tsv} @@ plainto_tsquery('french', :words))"
    )


@dataclass(frozen=True)
class Reading:
    """One meaning of the query text, in two shapes: the customers it matches (key, conversation
    or NULL), and the same test on one customer row `mc` (for walking customers in order)."""

    kind: MatchKind
    candidates: str
    on_customer: str
    # The same test on the walked customer row `c` itself, when it reads only that row's columns
    # (the name): testing a customer then costs next to nothing, so walking pays off sooner.
    on_row: str | None = None

    @property
    def common_rows(self) -> int:
        return COMMON_ROWS_IN_ROW if self.on_row else COMMON_ROWS


def _readings(query: ParsedQuery, status: StatusFilter, params: dict) -> list[Reading]:
    """Customer-level readings give raw profile ids (merged profiles resolved later); message
    readings give the profile and the conversation, only in conversations of `status`."""
    readings: list[Reading] = []
    status_test = ""
    if status != "all":
        params["statuses"] = list(STATUSES[status])
        # Each message carries its conversation's status, in the same index as its words
        # (migration 0003s), so the index itself returns only messages of such conversations.
        status_test = " AND m.conversation_status = ANY(:statuses)"
    name_words = [w for w in query.words if len(w) >= 2]
    if name_words and any(ch.isalpha() for w in name_words for ch in w):
        likes = []
        for i, word in enumerate(name_words):
            params[f"name{i}"] = f"%{word}%"
            likes.append(f"{{t}}.name_folded LIKE :name{i}")
        test = " AND ".join(likes)
        readings.append(
            Reading(
                "name",
                "SELECT c.customer_id, NULL::uuid FROM search.customers c"
                f" WHERE c.account_id = :a AND {test.format(t='c')}",
                test.format(t="mc"),
                on_row=test.format(t="c"),
            )
        )
    if query.phone_digits:
        params["digits"] = f"%{query.phone_digits}%"
        readings.append(
            Reading(
                "phone",
                "SELECT p.customer_id, NULL::uuid FROM search.customer_phones p"
                " WHERE p.account_id = :a AND p.digits LIKE :digits",
                "EXISTS (SELECT 1 FROM search.customer_phones p WHERE p.customer_id = mc.customer_id"
                " AND p.digits LIKE :digits)",
            )
        )
    if query.email_range:
        params["email_lo"], params["email_hi"] = query.email_range
        test = "{t}.email_folded >= :email_lo AND {t}.email_folded < :email_hi"
        readings.append(
            Reading(
                "email",
                f"SELECT c.customer_id, NULL::uuid FROM search.customers c WHERE c.account_id = :a"
                f" AND {test.format(t='c')}",
                test.format(t="mc"),
                on_row=test.format(t="c"),
            )
        )
    dms_tests = []
    if query.ro_range:
        params["ro_lo"], params["ro_hi"] = query.ro_range
        dms_tests.append(
            ("ro", "search.repair_orders", "r", "r.ro_compact >= :ro_lo AND r.ro_compact < :ro_hi")
        )
    if query.vin_range:
        params["vin_lo"], params["vin_hi"] = query.vin_range
        dms_tests.append(
            ("vin", "search.repair_orders", "v", "v.vin_reversed >= :vin_lo AND v.vin_reversed < :vin_hi")
        )
    if query.amount is not None:
        params["amount"] = query.amount
        dms_tests.append(("payment", "search.payments", "y", "y.amount = :amount"))
    phrase = " ".join(query.words)
    if len(phrase) >= 3 and any(ch.isalpha() for ch in phrase):
        params["phrase"] = f"%{phrase}%"
        dms_tests.append(("appointment", "search.appointments", "t", "t.type_folded LIKE :phrase"))
    for kind, table, alias, test in dms_tests:
        readings.append(
            Reading(
                kind,
                f"SELECT c.customer_id, NULL::uuid FROM {table} {alias}"
                f" JOIN search.customers c ON {DMS_JOIN.format(t=alias)}"
                f" WHERE {alias}.account_id = :a AND {test}",
                f"EXISTS (SELECT 1 FROM {table} {alias} WHERE {alias}.account_id = mc.account_id"
                f" AND {alias}.dms_customer_id = mc.dms_customer_id AND {test})",
            )
        )
    if query.words:
        params["prefix"] = query.message_prefix_query
        params["words"] = phrase
        readings.append(
            Reading(
                "message",
                "SELECT m.customer_id, m.conversation_id FROM search.messages m"
                f" WHERE m.account_id = :a AND {message_match()}{status_test}",
                "EXISTS (SELECT 1 FROM search.messages m WHERE m.customer_id = mc.customer_id"
                f" AND {message_match()}{status_test})",
            )
        )
    return readings


def _conversation_ok(status: StatusFilter, customer: str) -> str:
    """`customer` (a surviving profile) has a conversation of `status`, its own or a merged one's."""
    if status == "all":
        return "true"
    return (
        "EXISTS (SELECT 1 FROM search.customers mc"
        " JOIN search.conversations v ON v.customer_id = mc.customer_id"
        f" WHERE (mc.customer_id = {customer} OR mc.merged_into_customer_id = {customer})"
        " AND v.status = ANY(:statuses))"
    )


# A reading the planner expects to match more rows than this is "common": walking customers from
# the most recently active one and testing each is then cheaper than collecting and sorting every
# match (measured with bench/search_queries.py; the estimate only picks the plan, never the answer).
COMMON_ROWS = 5000
# The same for a reading tested on the walked row itself (a name): collecting its matches costs two
# primary-key lookups each (~10 ms for 4,000), walking to the 20th match of one customer in 25 a
# few hundred in-row tests.
COMMON_ROWS_IN_ROW = 1000


async def matching_customers(
    session: AsyncSession,
    account_id: UUID,
    query: ParsedQuery,
    status: StatusFilter,
    after: Cursor | None,
    limit: int,
) -> list[CustomerHit]:
    """Up to `limit` customers matching the query, most recently active first, after `after`."""
    params: dict = {"a": account_id, "limit": limit}
    # The planner settings these statements rely on are set per connection (SearchSettings).
    readings = _readings(query, status, params)
    if not readings:
        return []
    keyset = "true"
    if after:
        params["after_at"], params["after_id"] = after.last_activity_at, after.customer_id
        keyset = "(c.last_activity_at, c.customer_id) < (:after_at, :after_id)"
    # Few matches are collected and sorted; a common reading is instead tested on each customer
    # while walking them from the most recently active. Either gives the same answer; the
    # planner's estimate (no execution) is enough to choose.
    estimates = await _estimated_rows(session, readings, params)
    common = [r for r, rows in zip(readings, estimates, strict=True) if rows > r.common_rows]
    few = [r for r in readings if r not in common]
    rows = await session.execute(text(_page_sql(few, common, status, keyset)), params)
    return [CustomerHit(r.customer_id, r.display_name, r.last_activity_at) for r in rows]


async def _estimated_rows(session: AsyncSession, readings: list[Reading], params: dict) -> list[float]:
    """The planner's row estimate for each reading: one EXPLAIN of them all, or one each when
    the plan's shape does not say which part is which."""
    estimates = await _plan_rows(session, readings, params)
    if len(estimates) != len(readings):
        estimates = [(await _plan_rows(session, [r], params))[0] for r in readings]
    return estimates


async def _plan_rows(session: AsyncSession, readings: list[Reading], params: dict) -> list[float]:
    union = " UNION ALL ".join(f"({r.candidates})" for r in readings)
    plan = (await session.execute(text(f"EXPLAIN (FORMAT JSON) {union}"), params)).scalar()
    root = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
    parts = root.get("Plans", []) if root["Node Type"] == "Append" and len(readings) > 1 else [root]
    return [float(part.get("Plan Rows", 0)) for part in parts]


def _page_sql(few: list[Reading], common: list[Reading], status: StatusFilter, keyset: str) -> str:
    tests = []
    cte = ""
    if few:
        # Collected once, resolved to surviving profiles; ARRAY(...) makes each an id lookup.
        union = " UNION ALL ".join(r.candidates for r in few)
        cte = f"WITH hits(ck, conversation_id) AS MATERIALIZED ({union}) "

        def surviving(condition: str) -> str:
            return (
                "ARRAY(SELECT DISTINCT coalesce(x.merged_into_customer_id, x.customer_id)"
                " FROM search.customers x"
                f" WHERE x.customer_id = ANY(ARRAY(SELECT DISTINCT h.ck FROM hits h WHERE {condition})))"
            )

        tests.append(f"c.customer_id = ANY({surviving('h.conversation_id IS NOT NULL')})")
        tests.append(
            f"(c.customer_id = ANY({surviving('h.conversation_id IS NULL')})"
            f" AND {_conversation_ok(status, 'c.customer_id')})"
        )
    # Each customer (and the profiles merged into it) tested as the walk reaches it.
    members = "(mc.customer_id = c.customer_id OR mc.merged_into_customer_id = c.customer_id)"
    profile_tests = [r.on_customer for r in common if r.kind != "message" and not r.on_row]
    # A name: the walked row first, then (an index probe) the profiles merged into it.
    tests += [
        f"((({r.on_row}) OR EXISTS (SELECT 1 FROM search.customers mc"
        f" WHERE mc.merged_into_customer_id = c.customer_id AND {r.on_customer}))"
        f" AND {_conversation_ok(status, 'c.customer_id')})"
        for r in common
        if r.on_row
    ]
    if profile_tests:
        tests.append(
            f"(EXISTS (SELECT 1 FROM search.customers mc WHERE {members} AND ({' OR '.join(profile_tests)}))"
            f" AND {_conversation_ok(status, 'c.customer_id')})"
        )
    tests += [
        f"EXISTS (SELECT 1 FROM search.customers mc WHERE {members} AND {r.on_customer})"
        for r in common
        if r.kind == "message"
    ]
    return (
        f"{cte}SELECT c.customer_id, c.display_name, c.last_activity_at FROM search.customers c"
        f" WHERE c.account_id = :a AND c.merged_into_customer_id IS NULL AND {keyset}"
        f" AND ({' OR '.join(tests)})"
        " ORDER BY c.last_activity_at DESC, c.customer_id DESC LIMIT :limit"
    )
