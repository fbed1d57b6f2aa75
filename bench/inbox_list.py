"""The staff inbox list at dealership scale: one account with 100,000 conversations and 1,000,000
messages (sizes are options), every view x status x read filter combination, first page and a
deep cursor, through the API (in-process ASGI, the real routers and the real database) next to
the raw SQL of the same query run over asyncpg in the same run. Then the menus' numbers
(`GET /api/v1/conversations/counts`) per view x status, through the API.

.venv/bin/python bench/inbox_list.py [--conversations 100000] [--messages-per-conversation 10]
                                     [--repeat 20] [--keep | --database NAME] [--counts-only]

`--database NAME` measures a database kept by this script or by web_inbox_list.py (same data),
after migrating it to routing's newest revision.
"""

import argparse
import asyncio
import os
import statistics
import time
from datetime import UTC, datetime
from uuid import UUID

import asyncpg
import httpx
from environment import dsn, percentile, scratch_database
from fastapi import FastAPI
from sqlalchemy.dialects import postgresql

from routing.app import api_routers
from routing.conversations.queries import list_conversations_query
from routing.domain.inbox import InboxFilter, View, Viewer
from routing.migrations import migrate
from routing.settings import RoutingSettings
from shared.db.engine import create_engine, create_session_factory
from shared.http.auth import issue_token
from shared.http.errors import install_error_handlers

ACCOUNT = UUID("00000000-0000-0000-0000-00000000b001")
AGENTS = 20
TEAMS = 5
PAGE = 50
LIST = "/api/v1/conversations"
DEEP_ROWS = 5_000  # the deep cursor points this far into each list (or its middle when shorter)

VIEWS = ("mine", "all", "user", "team")
STATUSES = ("open", "closed", "all")
READS: tuple[tuple[str, ...], ...] = ((), ("read",), ("unread",), ("unanswered",), ("unread", "unanswered"))


def _uuid(kind: int, n: int) -> str:
    return f"00000000-0000-{kind:04x}-0000-{n:012x}"


async def load(url: str, conversations: int, per_conversation: int) -> None:
    """Synthetic but shaped like a dealership: 60% closed, assignments spread over 20 agents and
    5 teams (a fifth unassigned), about half answered, most read by their owners."""
    connection = await asyncpg.connect(dsn(url))
    try:
        started = time.perf_counter()
        await connection.execute(
            "INSERT INTO routing.accounts (id, name) VALUES ($1, 'Bench Motors')", ACCOUNT
        )
        await connection.execute(
            "INSERT INTO routing.account_phone_numbers (id, account_id, e164, carrier) "
            "VALUES (gen_random_uuid(), $1, '+15145550199', 'twilio')",
            ACCOUNT,
        )
        await connection.execute(
            f"""
            INSERT INTO routing.people (id, email, password_hash)
            SELECT ('00000000-0000-0001-0000-' || lpad(to_hex(n), 12, '0'))::uuid,
                   'agent' || n || '@bench.test', 'x'
            FROM generate_series(0, {AGENTS}) AS n"""
        )
        await connection.execute(
            f"""
            INSERT INTO routing.users (id, account_id, person_id, email, name, role)
            SELECT ('00000000-0000-0001-0000-' || lpad(to_hex(n), 12, '0'))::uuid, $1,
                   ('00000000-0000-0001-0000-' || lpad(to_hex(n), 12, '0'))::uuid,
                   'agent' || n || '@bench.test', 'Agent ' || n,
                   CASE WHEN n = 0 THEN 'admin' ELSE 'agent' END
            FROM generate_series(0, {AGENTS}) AS n""",
            ACCOUNT,
        )
        await connection.execute(
            f"""
            INSERT INTO routing.teams (id, account_id, name)
            SELECT ('00000000-0000-0002-0000-' || lpad(to_hex(n), 12, '0'))::uuid, $1, 'Team ' || n
            FROM generate_series(1, {TEAMS}) AS n""",
            ACCOUNT,
        )
        # Each agent n is in team (n % TEAMS) + 1.
        await connection.execute(
            f"""
            INSERT INTO routing.team_members (team_id, user_id)
            SELECT ('00000000-0000-0002-0000-' || lpad(to_hex(n % {TEAMS} + 1), 12, '0'))::uuid,
                   ('00000000-0000-0001-0000-' || lpad(to_hex(n), 12, '0'))::uuid
            FROM generate_series(1, {AGENTS}) AS n"""
        )
        await connection.execute(
            f"""
            INSERT INTO routing.customers (id, account_id, first_name, last_name)
            SELECT ('00000000-0000-0003-0000-' || lpad(to_hex(n), 12, '0'))::uuid, $1,
                   'First' || n, 'Last' || n
            FROM generate_series(1, {conversations}) AS n""",
            ACCOUNT,
        )
        await connection.execute(
            f"""
            INSERT INTO routing.customer_phones (id, account_id, customer_id, e164, kind)
            SELECT gen_random_uuid(), $1, ('00000000-0000-0003-0000-' || lpad(to_hex(n), 12, '0'))::uuid,
                   '+1438' || lpad(n::text, 7, '0'), 'mobile'
            FROM generate_series(1, {conversations}) AS n""",
            ACCOUNT,
        )
        await connection.execute(
            f"""
            INSERT INTO routing.conversations (id, account_id, customer_id, status, assignee_user_id,
                assignee_team_id, last_activity_at, last_inbound_at, last_outbound_at, created_at)
            SELECT ('00000000-0000-0004-0000-' || lpad(to_hex(n), 12, '0'))::uuid, $1,
                   ('00000000-0000-0003-0000-' || lpad(to_hex(n), 12, '0'))::uuid,
                   CASE WHEN n / 7 % 5 < 3 THEN 'closed' ELSE 'open' END,
                   CASE WHEN n % 5 IN (0, 1)
                        THEN ('00000000-0000-0001-0000-' || lpad(to_hex(n / 5 % {AGENTS} + 1), 12, '0'))::uuid
                   END,
                   CASE WHEN n % 5 IN (2, 3)
                        THEN ('00000000-0000-0002-0000-' || lpad(to_hex(n / 5 % {TEAMS} + 1), 12, '0'))::uuid
                   END,
                   at, at,
                   CASE WHEN n % 2 = 0 THEN at + interval '5 minutes' END,
                   at - interval '30 days'
            FROM (SELECT n, now() - (n * interval '97 seconds') AS at
                  FROM generate_series(1, {conversations}) AS n) AS s""",
            ACCOUNT,
        )
        await connection.execute(
            f"""
            INSERT INTO routing.messages (id, account_id, conversation_id, direction, body, status,
                source_kind, created_at)
            SELECT gen_random_uuid(), $1,
                   ('00000000-0000-0004-0000-' || lpad(to_hex(c), 12, '0'))::uuid,
                   CASE WHEN m % 2 = 0 THEN 'inbound' ELSE 'outbound' END,
                   'Message ' || m || ' about the car', 'delivered', 'manual',
                   now() - (c * interval '97 seconds') - ((m + 1) * interval '3 minutes')
            FROM generate_series(1, {conversations}) AS c, generate_series(0, {per_conversation - 1}) AS m""",
            ACCOUNT,
        )
        # Owners read 70% of their conversations; for a team, one member did.
        await connection.execute(
            """
            INSERT INTO routing.read_marks (user_id, conversation_id, last_read_at)
            SELECT coalesce(c.assignee_user_id, tm.user_id,
                            '00000000-0000-0001-0000-000000000000'::uuid),
                   c.id, c.last_inbound_at
            FROM routing.conversations c
            LEFT JOIN LATERAL (SELECT user_id FROM routing.team_members
                               WHERE team_id = c.assignee_team_id LIMIT 1) tm ON true
            WHERE c.account_id = $1 AND abs(hashtext(c.id::text)) % 10 < 7""",
            ACCOUNT,
        )
        # What the read and assignment use cases keep on each conversation
        # (routing/conversations/usecases/read_state.py).
        await connection.execute(
            """
            UPDATE routing.conversations c SET owner_read_at = (
                SELECT max(r.last_read_at) FROM routing.read_marks r
                WHERE r.conversation_id = c.id AND (
                    r.user_id = c.assignee_user_id
                    OR r.user_id IN (SELECT m.user_id FROM routing.team_members m
                                     WHERE m.team_id = c.assignee_team_id)
                    OR (c.assignee_user_id IS NULL AND c.assignee_team_id IS NULL)))"""
        )
        # The latest message's preview, kept where messages are stored
        # (routing/messaging/usecases/last_message.py).
        await connection.execute(
            """
            UPDATE routing.conversations c
            SET last_message_at = m.created_at, last_message_id = m.id,
                last_message_preview = left(m.body, 120), last_message_direction = m.direction
            FROM (SELECT DISTINCT ON (conversation_id) conversation_id, id, created_at, body, direction
                  FROM routing.messages ORDER BY conversation_id, created_at DESC, id DESC) m
            WHERE m.conversation_id = c.id"""
        )
        # The menus' counters as the background settler leaves them (conversations/counters.py;
        # the load's few bulk statements appended a few hundred rows).
        if await connection.fetchval("SELECT to_regclass('routing.conversation_counters')"):
            await _settle_counters(url)
        await connection.execute("VACUUM ANALYZE routing.conversations")
        await connection.execute("ANALYZE")
        counts = await connection.fetchrow(
            "SELECT (SELECT count(*) FROM routing.conversations) AS conversations, "
            "(SELECT count(*) FROM routing.messages) AS messages, "
            "(SELECT count(*) FROM routing.read_marks) AS read_marks"
        )
        print(
            f"[load] {counts['conversations']:,} conversations, {counts['messages']:,} messages, "
            f"{counts['read_marks']:,} read marks in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
    finally:
        await connection.close()


async def _settle_counters(url: str) -> None:
    from routing.conversations.counters import settle_counters

    engine = create_engine(RoutingSettings(database_url=url))
    try:
        async with create_session_factory(engine).begin() as session:
            await settle_counters(session)
    finally:
        await engine.dispose()


def _view(kind: str) -> str:
    if kind == "user":
        return f"user:{_uuid(1, 3)}"
    if kind == "team":
        return f"team:{_uuid(2, 2)}"
    return kind


def _viewer() -> Viewer:
    # Agent 2 of team 3 (agents n are in team n % 5 + 1).
    return Viewer(ACCOUNT, UUID(_uuid(1, 2)), False, frozenset({UUID(_uuid(2, 3))}))


async def _deep_cursor(session_factory, viewer: Viewer, inbox_filter: InboxFilter) -> str | None:
    """A cursor DEEP_ROWS rows into the list (or halfway when shorter), found by paging."""
    from sqlalchemy import func, select

    from routing.conversations.queries import matching
    from routing.cursors import encode_cursor

    async with session_factory() as session:
        total = await session.scalar(
            select(func.count()).select_from(matching(viewer, inbox_filter).subquery())
        )
        depth = min(DEEP_ROWS, total // 2)
        if depth < 1:
            return None
        query = list_conversations_query(viewer, inbox_filter, limit=1).offset(depth - 1)
        row = (await session.execute(query)).first()
        return encode_cursor(row.last_activity_at, row.id) if row else None


def _raw_sql(viewer: Viewer, inbox_filter: InboxFilter, cursor: str | None) -> str:
    query = list_conversations_query(viewer, inbox_filter, limit=PAGE, cursor=cursor)
    return str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


async def measure(url: str, repeat: int, counts_only: bool = False) -> list[dict]:
    settings = RoutingSettings(database_url=url)
    engine = create_engine(settings)
    session_factory = create_session_factory(engine)
    app = FastAPI()
    install_error_handlers(app)
    for router in api_routers(settings, session_factory):
        app.include_router(router)

    @app.get("/bench/floor")
    async def floor() -> dict:
        """No database, no auth: what the framework and the in-process client cost alone."""
        return {"ok": True}

    viewer = _viewer()
    token = issue_token(settings, str(viewer.user_id), ACCOUNT, "agent")
    headers = {"authorization": f"Bearer {token}"}
    raw = await asyncpg.connect(dsn(url))
    results: list[dict] = []
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as client:
            floor_ms = []
            for _ in range(repeat * 10):
                started = time.perf_counter()
                await client.get("/bench/floor")
                floor_ms.append((time.perf_counter() - started) * 1000)
            print(
                f"[floor] an empty route through the same client: p50 {statistics.median(floor_ms):.2f} ms, "
                f"p95 {percentile(floor_ms, 95):.2f} ms",
                flush=True,
            )
            for view in VIEWS if not counts_only else ():
                for status in STATUSES:
                    for read in READS:
                        inbox_filter = InboxFilter(View.parse(_view(view)), status, frozenset(read))
                        deep = await _deep_cursor(session_factory, viewer, inbox_filter)
                        for depth, cursor in (("first", None), ("deep", deep)):
                            if depth == "deep" and cursor is None:
                                continue
                            params: list[tuple[str, str]] = [
                                ("view", _view(view)),
                                ("status", status),
                                ("limit", str(PAGE)),
                            ]
                            params += [("read", r) for r in read]
                            if cursor:
                                params.append(("cursor", cursor))
                            sql = _raw_sql(viewer, inbox_filter, cursor)
                            api_ms, sql_ms = [], []
                            rows = 0
                            for _ in range(repeat):
                                started = time.perf_counter()
                                response = await client.get(
                                    "/api/v1/conversations", params=params, headers=headers
                                )
                                api_ms.append((time.perf_counter() - started) * 1000)
                                assert response.status_code == 200, response.text
                                rows = len(response.json()["items"])
                                started = time.perf_counter()
                                await raw.fetch(sql)
                                sql_ms.append((time.perf_counter() - started) * 1000)
                            results.append(
                                {
                                    "case": f"{view:<4} {status:<6} {'+'.join(read) or '-':<17} {depth}",
                                    "rows": rows,
                                    "api_p50": statistics.median(api_ms),
                                    "api_p95": percentile(api_ms, 95),
                                    "sql_p50": statistics.median(sql_ms),
                                    "sql_p95": percentile(sql_ms, 95),
                                }
                            )
            results += await measure_counts(client, headers, repeat)
    finally:
        await raw.close()
        await engine.dispose()
    return results


async def measure_counts(client: httpx.AsyncClient, headers: dict, repeat: int) -> list[dict]:
    """The menus' numbers, as the Conversations page asks for them after its rows."""
    results = []
    for view in VIEWS:
        for status in STATUSES:
            params = {"view": _view(view), "status": status}
            took = []
            for _ in range(repeat):
                started = time.perf_counter()
                response = await client.get("/api/v1/conversations/counts", params=params, headers=headers)
                took.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.text
            results.append(
                {
                    "case": f"{view:<4} {status:<6} counts",
                    "rows": response.json()["current"],
                    "api_p50": statistics.median(took),
                    "api_p95": percentile(took, 95),
                    "sql_p50": float("nan"),
                    "sql_p95": float("nan"),
                }
            )
    return results


def report(results: list[dict]) -> None:
    print(
        f"\n{'case (view status read depth)':<38} {'rows':>4} {'api p50':>8} {'api p95':>8} "
        f"{'sql p50':>8} {'sql p95':>8}  (ms)"
    )
    for row in results:
        print(
            f"{row['case']:<38} {row['rows']:>4} {row['api_p50']:>8.1f} {row['api_p95']:>8.1f} "
            f"{row['sql_p50']:>8.1f} {row['sql_p95']:>8.1f}"
        )
    lists = [r for r in results if not r["case"].endswith("counts")]
    if lists:
        worst = max(lists, key=lambda r: r["api_p95"])
        over = [r for r in lists if r["api_p95"] >= 30]
        print(
            f"\n{len(lists)} list calls; worst API p95 {worst['api_p95']:.1f} ms ({worst['case'].strip()}); "
            f"{len(over)} at or over the 30 ms target; median API/SQL p50 ratio "
            f"{statistics.median(r['api_p50'] / max(r['sql_p50'], 0.01) for r in lists):.2f}"
        )
    counted = [r for r in results if r["case"].endswith("counts")]
    if counted:
        print(
            f"counts: API p50 median {statistics.median(r['api_p50'] for r in counted):.1f} ms, "
            f"worst p95 {max(r['api_p95'] for r in counted):.1f} ms over {len(counted)} view x status"
        )


def run(
    conversations: int = 100_000,
    messages_per_conversation: int = 10,
    repeat: int = 20,
    database: str | None = None,
    keep: bool = False,
    counts_only: bool = False,
) -> dict:
    """Loads (or reuses `database`), measures, reports; {"database", "results"}."""
    with scratch_database("bench_inbox", database, keep) as (name, url, new):
        migrate(url)
        if new:
            asyncio.run(load(url, conversations, messages_per_conversation))
        print(
            f"[run] {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, database {name}, page size {PAGE}, "
            f"{repeat} calls per case, load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        results = asyncio.run(measure(url, repeat, counts_only))
        report(results)
        print(f"[end] load average {os.getloadavg()[0]:.1f}")
    return {"database": name, "results": results}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages-per-conversation", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--database", help="measure a kept database (no load)")
    parser.add_argument("--counts-only", action="store_true", help="only the counts, not the list cases")
    args = parser.parse_args()
    run(
        args.conversations,
        args.messages_per_conversation,
        args.repeat,
        args.database,
        args.keep,
        args.counts_only,
    )


if __name__ == "__main__":
    main()
