"""Fan-out: one event to a team of 50 members while 1,000 SSE streams are open on one notifier
process — the time from the publish to Kafka until the last member's stream has it.

    .venv/bin/python bench/notifications_fanout.py [--streams 1000] [--members 50] [--rounds 5]

`notifier` runs as a real process, like in production, with `routing` beside it (notifier asks
it whether each stream's user is active staff; the script writes the 1,000 agents into routing's
table directly). The 1,000 streams are raw HTTP/1.1 connections from this script: each of the
50 members has `--member-streams` of them (default 1) and the rest belong to other users of the
account, who must receive nothing. Each round publishes
one `conversation.assigned.v1` naming the 50 members (a team assignment), stamped with the round,
and timestamps its arrival at every member stream (`time.perf_counter`, same process as the
publisher). One warm-up round is not counted (consumer-group join)."""

import argparse
import asyncio
import contextlib
import json
import os
import time
from uuid import UUID, uuid4

from aiokafka import AIOKafkaProducer
from environment import bench_environment, dsn, percentile

from devtools import demo
from shared.contracts.conversation import ConversationsAssigned
from shared.contracts.topics import CONVERSATION_ASSIGNED
from shared.http.auth import issue_token
from shared.settings import ServiceSettings


class Stream:
    """One raw SSE connection: notes when each round's event arrives."""

    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port, self.token = host, port, token
        self.ready = asyncio.Event()
        self.arrivals: dict[int, float] = {}
        self.unexpected = 0
        self.changed: asyncio.Event | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def run(self) -> None:
        reader, self._writer = await asyncio.open_connection(self.host, self.port, limit=2**20)
        self._writer.write(
            (
                f"GET /api/v1/notifications/stream HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Authorization: Bearer {self.token}\r\nAccept: text/event-stream\r\n\r\n"
            ).encode()
        )
        await self._writer.drain()
        status = await reader.readline()
        if b" 200 " not in status:
            raise RuntimeError(f"stream refused: {status!r}")
        event = None
        # sse-starlette writes each event as one chunk, so SSE lines arrive whole between the
        # chunk-size lines of the chunked encoding, which are simply not "event:" / "data:" lines.
        while line := await reader.readline():
            if line.startswith(b"event: "):
                event = line[7:].strip().decode()
                if event == "ready":
                    self.ready.set()
            elif line.startswith(b"data: ") and event == "conversation_assigned":
                now = time.perf_counter()
                title = json.loads(line[6:])["title"]
                if title.startswith("Bench round "):
                    self.arrivals[int(title.split()[2])] = now
                    if self.changed:
                        self.changed.set()
                else:
                    self.unexpected += 1

    def close(self) -> None:
        if self._writer:
            self._writer.close()


async def _open(streams: list[Stream], batch: int = 100) -> list[asyncio.Task]:
    tasks = []
    for start in range(0, len(streams), batch):
        chunk = streams[start : start + batch]
        tasks += [asyncio.create_task(s.run()) for s in chunk]
        await asyncio.wait_for(asyncio.gather(*(s.ready.wait() for s in chunk)), 60)
    return tasks


async def _database_connections(database_url: str) -> int:
    import asyncpg

    connection = await asyncpg.connect(dsn(database_url))
    try:
        return await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await connection.close()


async def _create_staff(database_url: str, user_ids: list[UUID]) -> None:
    """Agents of the demo dealership, written straight into routing's table (they never log in:
    the script signs their tokens), so creating 1,000 of them costs no password hashing."""
    import asyncpg

    connection = await asyncpg.connect(dsn(database_url))
    try:
        # A person (login) behind each seat, of the same id; '!' matches no password.
        await connection.executemany(
            "INSERT INTO routing.people (id, email, password_hash) VALUES ($1, $2, '!')",
            [(user, f"bench-{user}@example.com") for user in user_ids],
        )
        await connection.executemany(
            "INSERT INTO routing.users (id, account_id, person_id, email, name, role, active)"
            " VALUES ($1, $2, $1, $3, $4, 'agent', true)",
            [
                (user, demo.ACCOUNT_ID, f"bench-{user}@example.com", f"Bench {i}")
                for i, user in enumerate(user_ids)
            ],
        )
    finally:
        await connection.close()


def _rss_mb(pid: int) -> float | None:
    with contextlib.suppress(OSError):
        for line in open(f"/proc/{pid}/status"):  # noqa: SIM115
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return None


async def measure(env, total_streams: int, members_count: int, member_streams: int, rounds: int) -> dict:
    notifier = env.services["notifier"]
    settings = ServiceSettings(jwt_secret=os.environ.get("JWT_SECRET", ServiceSettings().jwt_secret))
    members = [uuid4() for _ in range(members_count)]
    bystander_count = total_streams - members_count * member_streams
    if bystander_count < 0:
        raise SystemExit("more member streams than streams")

    def token(user: UUID) -> str:
        return issue_token(settings, str(user), demo.ACCOUNT_ID, "agent")

    bystander_users = [uuid4() for _ in range(bystander_count)]
    # notifier asks routing whether a stream's user is an active staff member: they must exist.
    await _create_staff(env.database_url, [*members, *bystander_users])
    member_streams_list = [
        (m, Stream("127.0.0.1", notifier.port, token(m))) for m in members for _ in range(member_streams)
    ]
    bystanders = [Stream("127.0.0.1", notifier.port, token(user)) for user in bystander_users]
    streams = [s for _, s in member_streams_list] + bystanders
    connections_before = await _database_connections(env.database_url)
    opened_at = time.perf_counter()
    tasks = await _open(streams)
    open_seconds = time.perf_counter() - opened_at
    connections_open = await _database_connections(env.database_url)
    rss_open = _rss_mb(notifier.process.pid)
    print(
        f"[fanout] {len(streams)} streams open in {open_seconds:.1f} s; notifier RSS {rss_open or 0:.0f} MB; "
        f"database connections {connections_before} before, {connections_open} with streams open",
        flush=True,
    )

    producer = AIOKafkaProducer(bootstrap_servers=env.kafka_bootstrap, acks="all")
    await producer.start()
    changed = asyncio.Event()
    for stream in streams:
        stream.changed = changed
    results = []
    try:
        for round_no in range(rounds + 1):  # round 0: warm-up
            event = ConversationsAssigned(
                account_id=demo.ACCOUNT_ID,
                conversation_ids=[uuid4()],
                assignee_team_id=uuid4(),
                assignee_name="Service",
                actor_user_id=uuid4(),
                actor_name=f"Bench round {round_no}",
                notify_user_ids=members,
            )
            started = time.perf_counter()
            await producer.send_and_wait(
                env.topic_prefix + CONVERSATION_ASSIGNED.name,
                event.to_bytes(),
                key=event.partition_key.encode(),
            )
            deadline = started + (90 if round_no == 0 else 30)
            member_set = [s for _, s in member_streams_list]
            while not all(round_no in s.arrivals for s in member_set) and time.perf_counter() < deadline:
                changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), 0.5)
            arrived = [(s.arrivals[round_no] - started) * 1000 for s in member_set if round_no in s.arrivals]
            missing = len(member_set) - len(arrived)
            if round_no == 0:
                print(
                    f"[fanout] warm-up round: {len(arrived)} arrived, "
                    f"last after {max(arrived, default=0):.0f} ms"
                )
            else:
                results.append(
                    {
                        "round": round_no,
                        "first_ms": min(arrived, default=None),
                        "p50_ms": percentile(arrived, 50) if arrived else None,
                        "last_ms": max(arrived, default=None),
                        "missing": missing,
                    }
                )
                print(f"[fanout] round {round_no}: {results[-1]}", flush=True)
            await asyncio.sleep(1.0)
    finally:
        await producer.stop()
        await asyncio.sleep(0.5)
        unexpected = sum(s.unexpected for s in streams) + sum(len(s.arrivals) for s in bystanders)
        for stream in streams:
            stream.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    lasts = [r["last_ms"] for r in results if r["last_ms"] is not None]
    return {
        "streams": len(streams),
        "members": members_count,
        "member_streams": member_streams,
        "open_seconds": open_seconds,
        "rss_mb": rss_open,
        "db_connections_before": connections_before,
        "db_connections_open": connections_open,
        "rounds": results,
        "last_member_p50_ms": percentile(lasts, 50) if lasts else None,
        "last_member_max_ms": max(lasts) if lasts else None,
        "missing": sum(r["missing"] for r in results),
        "bystander_events": unexpected,
    }


def run(streams: int = 1000, members: int = 50, member_streams: int = 1, rounds: int = 5) -> dict:
    with bench_environment(["routing", "notifier"]) as env:
        result = asyncio.run(measure(env, streams, members, member_streams, rounds))
    report(result)
    return result


def report(result: dict) -> None:
    print()
    print(
        f"== fan-out: one team assignment to {result['members']} members, "
        f"{result['streams']} open SSE streams "
        f"({result['member_streams']} per member), one notifier process =="
    )
    print(
        f"  streams opened in       {result['open_seconds']:.1f} s; "
        f"notifier RSS {result['rss_mb'] or 0:.0f} MB"
    )
    print(
        f"  database connections    {result['db_connections_before']} before the streams, "
        f"{result['db_connections_open']} with them open"
    )
    for r in result["rounds"]:
        print(
            f"  round {r['round']}: first {r['first_ms']:.1f} ms, p50 {r['p50_ms']:.1f} ms, "
            f"last member {r['last_ms']:.1f} ms, missing {r['missing']}"
        )
    print(
        f"  last member: median {result['last_member_p50_ms']:.1f} ms, "
        f"worst {result['last_member_max_ms']:.1f} ms "
        f"(Kafka publish -> consumer -> PostgreSQL -> NOTIFY -> SSE)"
    )
    print(f"  missing {result['missing']}; events at streams of non-members {result['bystander_events']}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--member-streams", type=int, default=1, help="open streams per member")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if not (1 <= args.members <= args.streams <= 5000 and 1 <= args.rounds <= 50):
        raise SystemExit("need 1 <= members <= streams <= 5000 and 1 <= rounds <= 50")
    run(args.streams, args.members, args.member_streams, args.rounds)


if __name__ == "__main__":
    main()
