"""How far behind the search projection is while events arrive: `search` runs as its own process
(`python -m search serve`, its Kafka consumers as in production) on a fresh database and topic
prefix; this script publishes `conversation.message_received.v1` events at a fixed rate (default
500/s for 20 s, each a new customer's text) and reads back when each was applied: the
`processed_at` of its claim in `search.processed_events` (the transaction that indexed it) minus
the moment it was handed to Kafka, same machine, same clock.

.venv/bin/python bench/search_lag.py [--rate 500] [--seconds 20] [--grace 30] [--workers 3]
"""

import argparse
import asyncio
import secrets
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import asyncpg
from aiokafka import AIOKafkaProducer
from environment import (
    BASE_DATABASE_URL,
    KAFKA_BOOTSTRAP,
    _delete_prefixed_topics,
    dsn,
    percentile,
)
from sqlalchemy.engine import make_url

from devtools.processes import start_services, stop_services
from search.migrations import migrate
from shared.contracts.conversation import MessageReceived
from shared.testing.ports import free_port

ACCOUNT = uuid4()
WORDS = ["frein", "pneus", "vidange", "oil", "brakes", "recall", "ready", "appointment", "merci", "thanks"]


async def publish(prefix: str, rate: int, seconds: int) -> dict:
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA_BOOTSTRAP, acks="all", linger_ms=2)
    await producer.start()
    sent: dict = {}
    topic = f"{prefix}conversation.message_received.v1"
    try:
        total, started = rate * seconds, time.perf_counter()
        pending = []
        for i in range(total):
            due = started + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            event = MessageReceived(
                account_id=ACCOUNT,
                conversation_id=uuid4(),
                customer_id=uuid4(),
                message_id=uuid4(),
                customer_name=f"Customer {i}",
                customer_phone=f"+1438{i:07d}",
                dealership_phone="+15145550100",
                body=f"Message {i}: {WORDS[i % len(WORDS)]} {WORDS[(i * 7) % len(WORDS)]}",
                received_at=datetime.now(UTC),
            )
            sent[event.event_id] = datetime.now(UTC)
            pending.append(await producer.send(topic, event.to_bytes(), key=event.partition_key.encode()))
        await asyncio.gather(*pending)
        print(f"[publish] {total} events in {time.perf_counter() - started:.1f} s", flush=True)
    finally:
        await producer.stop()
    return sent


async def collect(url: str, sent: dict, grace: float) -> list[tuple[datetime, float]]:
    """(sent at, lag in ms) of every applied event, in the order they were sent."""
    connection = await asyncpg.connect(dsn(url))
    try:
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            done = await connection.fetchval("SELECT count(*) FROM search.processed_events")
            if done >= len(sent):
                break
            await asyncio.sleep(0.2)
        rows = await connection.fetch("SELECT event_id, processed_at FROM search.processed_events")
    finally:
        await connection.close()
    applied = [
        (sent[row["event_id"]], (row["processed_at"] - sent[row["event_id"]]).total_seconds() * 1000)
        for row in rows
        if row["event_id"] in sent
    ]
    return sorted(applied)


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(dsn(BASE_DATABASE_URL))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def run(rate: int = 500, seconds: int = 20, grace: float = 30, workers: int = 3) -> dict:
    """Publishes at `rate` for `seconds` to one search process; the lag of every applied event."""
    name = f"bench_search_lag_{secrets.token_hex(3)}"
    prefix = f"b{secrets.token_hex(4)}."
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = make_url(BASE_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    log_dir = Path(tempfile.mkdtemp(prefix="switchboard-bench-search-lag-"))
    services = {}
    try:
        migrate(url)
        env = {
            "DATABASE_URL": url,
            "KAFKA_BOOTSTRAP_SERVERS": KAFKA_BOOTSTRAP,
            "KAFKA_TOPIC_PREFIX": prefix,
            "KAFKA_PARTITIONS": "3",
            "LOG_LEVEL": "WARNING",
            "CONSUMER_WORKERS": str(workers),
        }
        services = start_services(env, log_dir, {"search": free_port()}, names=["search"])
        print(f"[run] {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {rate}/s for {seconds} s; logs {log_dir}")
        sent = asyncio.run(publish(prefix, rate, seconds))
        applied = asyncio.run(collect(url, sent, grace))
        lags = [lag for _, lag in applied]
        missing = len(sent) - len(lags)
        tenth = max(1, len(lags) // 10)
        result = {
            "rate": rate,
            "sent": len(sent),
            "applied": len(lags),
            "p50_ms": statistics.median(lags) if lags else None,
            "p95_ms": percentile(lags, 95) if lags else None,
            "p99_ms": percentile(lags, 99) if lags else None,
            "max_ms": max(lags) if lags else None,
            "first_tenth_p50_ms": statistics.median(lags[:tenth]) if lags else None,
            "last_tenth_p50_ms": statistics.median(lags[-tenth:]) if lags else None,
        }
        if lags:
            print(
                f"[lag] applied {len(lags)}/{len(sent)} ({missing} missing after {grace:.0f} s grace): "
                f"p50 {result['p50_ms']:.0f} ms, p95 {result['p95_ms']:.0f} ms, "
                f"p99 {result['p99_ms']:.0f} ms, max {result['max_ms']:.0f} ms"
            )
            print(
                f"[lag] median of the first 10 %: {result['first_tenth_p50_ms']:.0f} ms, "
                f"of the last 10 %: {result['last_tenth_p50_ms']:.0f} ms (growing = not keeping up)"
            )
        return result
    finally:
        stop_services(services)
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        asyncio.run(_delete_prefixed_topics(KAFKA_BOOTSTRAP, prefix))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--grace", type=float, default=30)
    parser.add_argument("--workers", type=int, default=3, help="CONSUMER_WORKERS of the search process")
    args = parser.parse_args()
    run(args.rate, args.seconds, args.grace, args.workers)


if __name__ == "__main__":
    main()
