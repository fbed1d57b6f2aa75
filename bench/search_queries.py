"""The search box at dealership scale: one account with 100,000 customers and 1,000,000 messages
(plus an appointment, a repair order and a payment per customer), loaded with generate_series
straight into the search schema. For each kind of query, p50 / p95 through the API (in-process
ASGI, the real router and the real database) next to the best hand-written SQL for the same
question (the first page of customer ids), run in the same script on the same data.

.venv/bin/python bench/search_queries.py [--customers 100000] [--messages-per-customer 10]
                                         [--repeat 30] [--keep] [--database NAME]

--keep leaves the loaded database behind; --database NAME measures a kept one again (migrated to
the latest revision, not reloaded).
"""

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID, uuid4

import asyncpg
import httpx
from environment import dsn, percentile, scratch_database
from fastapi import FastAPI

from search.api.search import search_router
from search.migrations import migrate
from search.settings import SearchSettings
from shared.db.engine import create_engine, create_session_factory
from shared.http.auth import Authenticated, issue_token
from shared.http.errors import install_error_handlers

ACCOUNT = UUID("00000000-0000-0000-0000-00000000b5e1")
PAGE = 20
FIRST = [
    "Marie",
    "Jean",
    "Émilie",
    "Luc",
    "Sophie",
    "Olivier",
    "Chloé",
    "Mathieu",
    "Julie",
    "Éric",
    "Nathalie",
    "François",
    "Isabelle",
    "Marc",
    "Geneviève",
    "Pierre",
    "Amélie",
    "Hugo",
    "Léa",
    "Sam",
]
LAST = [
    "Tremblay",
    "Gagnon",
    "Roy",
    "Côté",
    "Bouchard",
    "Gauthier",
    "Morin",
    "Lavoie",
    "Fortin",
    "Gagné",
    "Ouellet",
    "Pelletier",
    "Bélanger",
    "Lévesque",
    "Bergeron",
    "Leblanc",
    "Paquette",
    "Girard",
    "Simard",
    "Boucher",
    "Smith",
    "Brown",
    "Wilson",
    "Taylor",
    "Campbell",
]
TYPES = [
    "Oil change",
    "Tire change",
    "Brake inspection",
    "Recall",
    "Alignment",
    "Battery check",
    "Winter tires",
    "Vidange d'huile",
]
PHRASES = [
    "Hi, is my car ready?",
    "Bonjour, ma voiture est-elle prête?",
    "Thanks, see you tomorrow",
    "Merci beaucoup!",
    "Can I book an appointment for next week?",
    "Mes freins font un bruit",
    "The brakes are squeaking again",
    "What time do you close today?",
    "Quel est le prix pour la vidange?",
    "Your vehicle is ready for pickup",
    "Votre véhicule est prêt",
    "We ordered the part, it arrives Friday",
    "Nous avons commandé la pièce",
    "Please call me back",
    "Pouvez-vous me rappeler?",
    "How much for new tires?",
    "Combien pour des pneus d'hiver?",
    "The check engine light is on",
    "Le voyant moteur est allumé",
    "OK perfect",
]
# One message in a thousand mentions the transmission: a rarer word to look for.
RARE_EVERY = 1000


def _arr(values: list[str]) -> str:
    return "ARRAY[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


async def load(url: str, customers: int, per_customer: int) -> None:
    c = await asyncpg.connect(dsn(url))
    try:
        started = time.perf_counter()
        # Bulk load first, indexes after (as a restore would).
        await c.execute(
            "DROP INDEX search.messages_tsv, search.messages_customer, search.messages_account,"
            " search.messages_conversation, search.messages_status_tsv, search.customers_name_trgm,"
            " search.customer_phones_digits, search.appointments_type_trgm"
        )
        await c.execute(
            f"""
            INSERT INTO search.customers (customer_id, account_id, first_name, last_name, display_name,
                dms_customer_id, profile_version, last_activity_at)
            SELECT ('00000000-0000-0003-0000-' || lpad(to_hex(n), 12, '0'))::uuid, $1, f, l, f || ' ' || l,
                   'D' || n, 1, now() - n * interval '97 seconds'
            FROM (SELECT n, ({_arr(FIRST)})[1 + n % {len(FIRST)}] AS f,
                         ({_arr(LAST)})[1 + (n / {len(FIRST)}) % {len(LAST)}] AS l
                  FROM generate_series(1, {customers}) AS n) s""",
            ACCOUNT,
        )
        await c.execute(
            f"""
            INSERT INTO search.customer_phones (customer_id, e164, account_id, kind)
            SELECT ('00000000-0000-0003-0000-' || lpad(to_hex(n), 12, '0'))::uuid,
                   '+1' || (ARRAY['514','438','450'])[1 + n % 3] || lpad((n * 7919 % 10000000)::text, 7, '0'),
                   $1, 'mobile'
            FROM generate_series(1, {customers}) AS n""",
            ACCOUNT,
        )
        await c.execute(
            f"""
            INSERT INTO search.conversations (conversation_id, account_id, customer_id, status, status_at,
                last_activity_at)
            SELECT ('00000000-0000-0004-0000-' || lpad(to_hex(n), 12, '0'))::uuid, $1,
                   ('00000000-0000-0003-0000-' || lpad(to_hex(n), 12, '0'))::uuid,
                   CASE WHEN n % 5 < 3 THEN 'closed' WHEN n % 50 = 7 THEN 'archived' ELSE 'open' END,
                   now(), now() - n * interval '97 seconds'
            FROM generate_series(1, {customers}) AS n""",
            ACCOUNT,
        )
        await c.execute(
            f"""
            INSERT INTO search.messages (message_id, account_id, conversation_id, customer_id, customer_phone,
                body, sent_at, direction, conversation_status)
            SELECT gen_random_uuid(), $1,
                   ('00000000-0000-0004-0000-' || lpad(to_hex(n), 12, '0'))::uuid,
                   ('00000000-0000-0003-0000-' || lpad(to_hex(n), 12, '0'))::uuid, NULL,
                   CASE WHEN (n * 31 + m * 17) % {RARE_EVERY} = 0
                        THEN 'The transmission slips when cold'
                        ELSE ({_arr(PHRASES)})[1 + (n * 31 + m * 7) % {len(PHRASES)}] END,
                   now() - n * interval '97 seconds' - m * interval '3 minutes',
                   CASE WHEN m % 2 = 0 THEN 'inbound' ELSE 'outbound' END,
                   CASE WHEN n % 5 < 3 THEN 'closed' WHEN n % 50 = 7 THEN 'archived' ELSE 'open' END
            FROM generate_series(1, {customers}) AS n, generate_series(0, {per_customer - 1}) AS m""",
            ACCOUNT,
        )
        await c.execute(
            f"""
            INSERT INTO search.appointments (account_id, appointment_id, dms_customer_id, appointment_type,
                starts_at, record_version)
            SELECT $1, 'A' || n, 'D' || n, ({_arr(TYPES)})[1 + n % {len(TYPES)}],
                   now() + (n % 60) * interval '1 day', 1
            FROM generate_series(1, {customers}) AS n""",
            ACCOUNT,
        )
        await c.execute(
            f"""
            INSERT INTO search.repair_orders (account_id, ro_number, dms_customer_id, status, record_version)
            SELECT $1, 'RO-' || lpad(n::text, 6, '0'), 'D' || n, 'closed', 1
            FROM generate_series(1, {customers}) AS n""",
            ACCOUNT,
        )
        await c.execute(
            f"""
            INSERT INTO search.payments (account_id, payment_id, dms_customer_id, ro_number, amount, currency,
                record_version)
            SELECT $1, 'P' || n, 'D' || n, 'RO-' || lpad(n::text, 6, '0'),
                   20 + (n * 37 % 200000) / 100.0, 'CAD', 1
            FROM generate_series(1, {customers}) AS n""",
            ACCOUNT,
        )
        loaded = time.perf_counter()
        await c.execute("SET maintenance_work_mem = '256MB'")
        await c.execute("CREATE INDEX messages_tsv ON search.messages USING gin (body_tsv)")
        await c.execute("CREATE INDEX messages_customer ON search.messages (customer_id, sent_at DESC)")
        await c.execute("CREATE INDEX messages_account ON search.messages (account_id, sent_at)")
        await c.execute("CREATE INDEX messages_conversation ON search.messages (conversation_id)")
        await c.execute(
            "CREATE INDEX messages_status_tsv ON search.messages USING gin (conversation_status, body_tsv)"
        )
        await c.execute(
            "CREATE INDEX customers_name_trgm ON search.customers USING gin (name_folded gin_trgm_ops)"
        )
        await c.execute(
            "CREATE INDEX customer_phones_digits ON search.customer_phones USING gin (digits gin_trgm_ops)"
        )
        await c.execute(
            "CREATE INDEX appointments_type_trgm ON search.appointments USING gin (type_folded gin_trgm_ops)"
        )
        await c.execute("VACUUM ANALYZE")
        counts = await c.fetchrow(
            "SELECT (SELECT count(*) FROM search.customers) AS customers,"
            " (SELECT count(*) FROM search.messages) AS messages"
        )
        print(
            f"[load] {counts['customers']:,} customers, {counts['messages']:,} messages: rows in "
            f"{loaded - started:.0f} s, indexes in {time.perf_counter() - loaded:.0f} s",
            flush=True,
        )
    finally:
        await c.close()


def _customer(n: int) -> str:
    return f"00000000-0000-0003-0000-{n:012x}"


# Each case: a name, a way to pick the query text for call i, the status filter, and the best
# hand-written SQL for the same question (the first page of matching customer ids).
_ORDER = " ORDER BY c.last_activity_at DESC, c.customer_id DESC LIMIT 21"
_IN = "SELECT c.customer_id FROM search.customers c WHERE c.account_id = $1 AND c.customer_id IN "
# For a rare match, collecting the ids first and sorting them beats walking customers in order.
_ARRAY = "SELECT c.customer_id FROM search.customers c WHERE c.account_id = $1 AND c.customer_id = ANY(ARRAY"


def cases(customers: int) -> list[tuple[str, Callable[[int], str], str, str, Callable[[str], list]]]:
    def pick(i: int) -> int:
        return 1 + (i * 7_919 + 13) % customers

    def phone(n: int) -> str:
        return "+1" + ["514", "438", "450"][n % 3] + f"{n * 7919 % 10_000_000:07d}"

    def name_of(n: int) -> str:
        return f"{FIRST[n % len(FIRST)]} {LAST[(n // len(FIRST)) % len(LAST)]}"

    def fold(text: str) -> str:
        from search.domain.query import fold as f

        return f(text)

    return [
        (
            "name, partial last name",
            lambda i: LAST[i % len(LAST)][:5].lower(),
            "all",
            _IN
            + "(SELECT customer_id FROM search.customers WHERE account_id = $1 AND name_folded LIKE $2)"
            + _ORDER,
            lambda q: [f"%{fold(q)}%"],
        ),
        (
            "name, first + last",
            lambda i: name_of(pick(i)),
            "all",
            "SELECT c.customer_id FROM search.customers c WHERE c.account_id = $1 AND c.name_folded LIKE $2"
            " AND c.name_folded LIKE $3" + _ORDER,
            lambda q: [f"%{fold(w)}%" for w in q.split()],
        ),
        (
            "phone, full (514) 555-0100 style",
            lambda i: (lambda p: f"({p[2:5]}) {p[5:8]}-{p[8:]}")(phone(pick(i))),
            "all",
            _IN
            + "(SELECT customer_id FROM search.customer_phones WHERE account_id = $1 AND digits LIKE $2)"
            + _ORDER,
            lambda q: ["%" + "".join(ch for ch in q if ch.isdigit()) + "%"],
        ),
        (
            "phone, partial 7 digits",
            lambda i: (lambda p: f"{p[5:8]} {p[8:]}")(phone(pick(i))),
            "all",
            _IN
            + "(SELECT customer_id FROM search.customer_phones WHERE account_id = $1 AND digits LIKE $2)"
            + _ORDER,
            lambda q: ["%" + "".join(ch for ch in q if ch.isdigit()) + "%"],
        ),
        (
            "RO number",
            lambda i: f"RO-{pick(i):06d}",
            "all",
            _IN + "(SELECT c2.customer_id FROM search.repair_orders r JOIN search.customers c2"
            " ON c2.account_id = r.account_id AND c2.dms_customer_id = r.dms_customer_id"
            " WHERE r.account_id = $1 AND r.ro_compact = $2)" + _ORDER,
            lambda q: [q.replace("-", "")],
        ),
        (
            "payment amount",
            lambda i: f"{20 + (pick(i) * 37 % 200_000) / 100:.2f}",
            "all",
            _IN + "(SELECT c2.customer_id FROM search.payments p JOIN search.customers c2"
            " ON c2.account_id = p.account_id AND c2.dms_customer_id = p.dms_customer_id"
            " WHERE p.account_id = $1 AND p.amount = $2::numeric)" + _ORDER,
            lambda q: [q],
        ),
        (
            "appointment type (1 in 8 customers)",
            lambda i: TYPES[i % len(TYPES)].lower(),
            "all",
            _IN + "(SELECT c2.customer_id FROM search.appointments t JOIN search.customers c2"
            " ON c2.account_id = t.account_id AND c2.dms_customer_id = t.dms_customer_id"
            " WHERE t.account_id = $1 AND t.type_folded LIKE $2)" + _ORDER,
            lambda q: [f"%{fold(q)}%"],
        ),
        (
            "message word, rare (transmission)",
            lambda i: "transmission",
            "all",
            _ARRAY + "(SELECT customer_id FROM search.messages WHERE account_id = $1"
            " AND body_tsv @@ to_tsquery('simple', $2)))" + _ORDER,
            lambda q: [f"{q}:*"],
        ),
        (
            "message word, French stem (freins)",
            lambda i: "freins",
            "all",
            _IN + "(SELECT customer_id FROM search.messages WHERE account_id = $1"
            " AND body_tsv @@ plainto_tsquery('french', $2))" + _ORDER,
            lambda q: [q],
        ),
        (
            "message word, open conversations only",
            lambda i: "transmission",
            "open",
            _ARRAY + "(SELECT m.customer_id FROM search.messages m WHERE m.account_id = $1"
            " AND m.conversation_status = 'open' AND m.body_tsv @@ to_tsquery('simple', $2)))" + _ORDER,
            lambda q: [f"{q}:*"],
        ),
    ]


async def measure(url: str, customers: int, repeat: int) -> list[dict]:
    settings = SearchSettings(database_url=url)
    engine = create_engine(settings)
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(search_router(create_session_factory(engine), Authenticated(settings)))
    headers = {"authorization": f"Bearer {issue_token(settings, str(uuid4()), ACCOUNT, 'agent')}"}
    raw = await asyncpg.connect(dsn(url))
    # The same planner settings the service uses for each search (search/queries.py).
    await raw.execute(
        "SET random_page_cost = 1.1; SET plan_cache_mode = force_custom_plan;"
        " SET max_parallel_workers_per_gather = 0"
    )
    results = []
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s") as client:
            for name, query_for, status, sql, args_for in cases(customers):
                api_ms, sql_ms, found = [], [], []
                for i in range(repeat + 2):  # two warm-up calls, not counted
                    q = query_for(i)
                    started = time.perf_counter()
                    response = await client.get(
                        "/api/v1/search", params={"q": q, "status": status, "limit": PAGE}, headers=headers
                    )
                    api = (time.perf_counter() - started) * 1000
                    assert response.status_code == 200, response.text
                    started = time.perf_counter()
                    rows = await raw.fetch(sql, ACCOUNT, *args_for(q))
                    hand = (time.perf_counter() - started) * 1000
                    if i >= 2:
                        api_ms.append(api)
                        sql_ms.append(hand)
                        found.append(len(response.json()["results"]))
                    if i == 2 and len(rows) > 0 and not response.json()["results"]:
                        print(f"[warn] {name}: SQL found rows, API none for {q!r}")
                results.append(
                    {
                        "case": name,
                        "example": query_for(2),
                        "found": statistics.median(found),
                        "api_p50": statistics.median(api_ms),
                        "api_p95": percentile(api_ms, 95),
                        "sql_p50": statistics.median(sql_ms),
                        "sql_p95": percentile(sql_ms, 95),
                    }
                )
                print(
                    f"  {name:<40} {results[-1]['api_p50']:7.1f} {results[-1]['api_p95']:7.1f}"
                    f" {results[-1]['sql_p50']:7.1f} {results[-1]['sql_p95']:7.1f}",
                    flush=True,
                )
    finally:
        await raw.close()
        await engine.dispose()
    return results


def report(results: list[dict]) -> None:
    print(
        f"\n{'query kind':<40} {'example':<20} {'found':>5} {'api p50':>8} {'api p95':>8}"
        f" {'sql p50':>8} {'sql p95':>8}  (ms)"
    )
    for r in results:
        print(
            f"{r['case']:<40} {r['example'][:20]:<20} {r['found']:>5.0f}"
            f" {r['api_p50']:>8.1f} {r['api_p95']:>8.1f}"
            f" {r['sql_p50']:>8.1f} {r['sql_p95']:>8.1f}"
        )
    over = [r["case"] for r in results if r["api_p95"] >= 25]
    print(f"\nAPI p95 at or over the 25 ms target: {', '.join(over) if over else 'none'}")


def run(
    customers: int = 100_000,
    messages_per_customer: int = 10,
    repeat: int = 30,
    database: str | None = None,
    keep: bool = False,
) -> list[dict]:
    """Loads (or reuses `database`), measures and reports every query kind."""
    with scratch_database("bench_search", database, keep) as (_, url, new):
        migrate(url)
        if new:
            asyncio.run(load(url, customers, messages_per_customer))
        print(f"[run] {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, page size {PAGE}, {repeat} calls per kind")
        print(f"  {'':<40} {'api p50':>7} {'api p95':>7} {'sql p50':>7} {'sql p95':>7}")
        results = asyncio.run(measure(url, customers, repeat))
        report(results)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--messages-per-customer", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--database", help="measure this kept database again instead of loading a new one")
    args = parser.parse_args()
    run(args.customers, args.messages_per_customer, args.repeat, args.database, args.keep)


if __name__ == "__main__":
    main()
