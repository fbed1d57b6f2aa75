"""The whole inbound pipeline under a sustained rate (issue 17, goal 3): wrk posts signed Twilio
texts to ingest at `--rate` for `--seconds` (one Poisson schedule for the run, open loop:
`ingest_edge.DELAY_ON_SCHEDULE`) while ingest, routing, notifier and search run as real
processes, `--replicas` of each consumer service
(routing, notifier, search; ingest stays one process: it is the edge wrk loads). A staff page's
stream is open the whole time: the demo admin's account-wide live stream at notifier
(`GET /api/v1/live`, the one the web inbox keeps open), where every stored inbound text arrives
as a `message_received` change.

Per replica count, one environment each, in one run:
- posted and accepted rate (wrk, ingest's claims), the webhook's own p50/p99 (wrk);
- latency from ingest's claim of the webhook (`ingest.received_webhooks.received_at`, the group's
  transaction start, same host clock) to the change's arrival on the stream (`time.time()`), per
  text, matched through routing's `carrier_message_id`; p50/p95/p99/max and the p50 of the first
  and last tenth (growing = not keeping up). wrk cannot stamp a signed body, so the part before
  the claim (the socket queue, reading the form) is wrk's own latency, printed beside it: the
  webhook -> stream latency of a text is at most the sum of the two; its parts (claim -> routing's
  transaction began, -> its event relayed, -> notifier stored the change, -> the stream) at p50/p99,
  and its p99 per tenth of the run (a tail from the start, or from the end);
- the backlog when the load stops (texts accepted but not yet stored by routing, indexed by search,
  streamed to the page) and the consumer groups' lag in Kafka (end offsets minus committed) once drained and
  offsets committed (up to 20 s more); how long draining took;
- CPU per text of every process, PostgreSQL's backends and the broker; how busy the machine was.

With `--replicas 1,2` the two runs are compared: the rate each kept up with, CPU per text, and the
ratio (issue 17: >= 1.6x where cores allow, or shown by CPU per message where they do not). Where
cores do not allow, the comparison that says whether replicas scale is `--rates 300,600`: each
replica then gets the load one process had (one at 300/s, two at 600/s), as on a machine with
twice the cores; the consumers' CPU per text staying level says two replicas would carry twice
the texts on twice the cores. At one rate for both, each of two replicas sees half the texts, so
batches gathered for 100 ms are half as big and cost more per text: that is not what scaling adds.

    .venv/bin/python bench/sustained_load.py [--rate 600] [--seconds 300] [--replicas 1,2]
        [--rates 300,600] [--senders 2000] [--connections 64] [--grace 60]

Target (issue 17): 600 texts/s for 5 minutes, webhook -> staff stream p99 < 500 ms, no lag at the end.
"""

import argparse
import asyncio
import contextlib
import datetime
import functools
import json
import os
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from cpu_per_text import pipeline_counts, write_texts
from environment import (
    CpuMeter,
    bench_environment,
    dsn,
    latency_summary,
    percentile,
    pids_matching,
    sse_events,
)
from ingest_edge import run_wrk

from devtools import demo, processes
from devtools.processes import ServiceProcess, service_urls
from shared.testing.ports import free_port

CONSUMERS = ("routing", "notifier", "search")
ROUTE = "/webhooks/twilio/sms"
processes.ServiceProcess.wait_ready = functools.partialmethod(
    processes.ServiceProcess.wait_ready, timeout=240
)


class LiveStream:
    """The admin's account-wide live stream: when each message's `message_received` change came."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.arrivals: dict[str, float] = {}
        self.ready = asyncio.Event()

    async def read(self) -> None:
        async for fields in sse_events(self.url, self.token):
            if fields.get("event") == "ready":
                self.ready.set()
            elif fields.get("event") == "conversation" and fields.get("data"):
                change = json.loads(fields["data"])
                if change.get("change") == "message_received" and change.get("message_id"):
                    self.arrivals.setdefault(change["message_id"], time.time())


async def _sql(database_url: str, query: str) -> list:
    connection = await asyncpg.connect(dsn(database_url))
    try:
        return await connection.fetch(query)
    finally:
        await connection.close()


async def _claimed_at(database_url: str) -> dict[str, float]:
    """routing's message id -> when ingest claimed its webhook (epoch seconds)."""
    rows = await _sql(
        database_url,
        "SELECT m.id::text AS id, extract(epoch FROM w.received_at)::float8 AS claimed"
        " FROM routing.messages m JOIN ingest.received_webhooks w"
        " ON w.carrier = 'twilio' AND w.kind = 'sms' AND w.dedupe_key = m.carrier_message_id"
        " WHERE m.direction = 'inbound'",
    )
    return {row["id"]: row["claimed"] for row in rows}


async def _change_stored_at(database_url: str) -> dict[str, float]:
    """routing's message id -> when notifier stored its `message_received` change (the start of
    the consumer's transaction; the change is announced to the streams when it commits)."""
    rows = await _sql(
        database_url,
        "SELECT data->>'message_id' AS id, extract(epoch FROM created_at)::float8 AS stored"
        " FROM notifier.live_events WHERE data->>'change' = 'message_received'",
    )
    return {row["id"]: row["stored"] for row in rows}


async def _routing_stamps(database_url: str) -> dict[str, tuple[float, float]]:
    """routing's message id -> when routing's transaction that stored it began and when its
    `message_received` event was relayed to Kafka (the outbox row's created_at / published_at,
    each its transaction's start)."""
    rows = await _sql(
        database_url,
        "SELECT convert_from(payload, 'UTF8')::jsonb->>'message_id' AS id,"
        " extract(epoch FROM created_at)::float8 AS began,"
        " extract(epoch FROM published_at)::float8 AS relayed"
        " FROM routing.outbox WHERE topic LIKE '%message_received%' AND published_at IS NOT NULL",
    )
    return {row["id"]: (row["began"], row["relayed"]) for row in rows}


def _stages(texts: list[tuple[float, float, float, float, float]]) -> dict[str, dict[str, float]]:
    """p50/p99 (ms) of each part of claim -> stream, texts as (claim, routing began, relayed,
    notifier stored, arrived), and the p99 of the whole per tenth of the run (claim order)."""
    names = ("claim -> routing", "routing -> relayed", "relayed -> notifier", "notifier -> stream")
    parts = {name: [(text[i + 1] - text[i]) * 1000 for text in texts] for i, name in enumerate(names)}
    tenth = max(1, len(texts) // 10)
    out = {
        name: {
            "p50": percentile(v, 50),
            "p99": percentile(v, 99),
            "first tenth p99": percentile(v[:tenth], 99),
        }
        for name, v in parts.items()
        if v
    }
    whole = [(text[4] - text[0]) * 1000 for text in texts]
    out["p99 by tenth"] = {
        str(n + 1): percentile(whole[n * tenth : (n + 1) * tenth], 99)
        for n in range(10)
        if whole[n * tenth : (n + 1) * tenth]
    }
    return out


async def kafka_lag(bootstrap: str, prefix: str) -> dict[str, int]:
    """Per consumer group of this run: records in its topics not yet committed."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await admin.start()
    await probe.start()
    try:
        groups = [g[0] for g in await admin.list_consumer_groups() if g[0].startswith(prefix)]
        lag: dict[str, int] = {}
        for group in groups:
            committed = await admin.list_consumer_group_offsets(group)
            if not committed:
                continue
            ends = await probe.end_offsets(list(committed))
            lag[group] = sum(max(0, ends[tp] - meta.offset) for tp, meta in committed.items())
        return lag
    finally:
        await probe.stop()
        await admin.close()


async def _wait_drained(database_url: str, stream: LiveStream, accepted: int, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        counts = await pipeline_counts(database_url)
        if counts.stored >= accepted and counts.indexed >= accepted and len(stream.arrivals) >= accepted:
            break
        await asyncio.sleep(0.5)
    return time.monotonic() - started


async def _login(routing: str) -> str:
    async with httpx.AsyncClient(timeout=15) as client:
        answer = await client.post(
            f"{routing}/api/v1/auth/login", json={"email": demo.ADMIN_EMAIL, "password": demo.PASSWORD}
        )
        answer.raise_for_status()
        return answer.json()["access_token"]


async def _measure(environment, meter: CpuMeter, args, work: Path, replicas: int) -> dict:
    ingest = environment.url("ingest")
    stream = LiveStream(
        f"{environment.url('notifier')}/api/v1/live", await _login(environment.url("routing"))
    )
    reader = asyncio.create_task(stream.read())
    try:
        await asyncio.wait_for(stream.ready.wait(), 30)
        # Warm-up: consumer groups joined, first conversations created, not measured.
        warm = work / f"warm-{replicas}.txt"
        write_texts(warm, f"{ingest}{ROUTE}", 200, 50, f"w{replicas}")
        await asyncio.to_thread(functools.partial(run_wrk, ingest, ROUTE, warm, 2, 8, rate=200))
        await _wait_drained(
            environment.database_url, stream, (await pipeline_counts(environment.database_url)).accepted, 120
        )
        before = await pipeline_counts(environment.database_url)
        streamed_before = len(stream.arrivals)

        bodies = work / f"load-{replicas}.txt"
        write_texts(
            bodies,
            f"{ingest}{ROUTE}",
            int(args.rate * args.seconds * 1.1) + 100,
            args.senders,
            f"s{replicas}",
        )
        meter.start()
        # This process is mostly the stream's reader while wrk runs: its CPU tells whether the
        # reader, not the stream, could be what falls behind.
        reader_cpu = time.process_time()
        started, started_epoch = time.monotonic(), time.time()
        posted = await asyncio.to_thread(
            run_wrk,
            ingest,
            ROUTE,
            bodies,
            args.seconds,
            args.connections,
            rate=args.rate,
        )
        load_seconds = time.monotonic() - started
        reader_cpu = time.process_time() - reader_cpu
        at_end = await pipeline_counts(environment.database_url)
        streamed_at_end = len(stream.arrivals) - streamed_before
        drain = await _wait_drained(environment.database_url, stream, at_end.accepted, args.grace)
        streamed_in_drain = len(stream.arrivals) - streamed_before - streamed_at_end
        used = meter.stop()
        # Consumers commit offsets every few seconds: lag left is what stays after that.
        lag_deadline = time.monotonic() + 20
        while (lag := await kafka_lag(environment.kafka_bootstrap, environment.topic_prefix)) and any(
            lag.values()
        ):
            if time.monotonic() > lag_deadline:
                break
            await asyncio.sleep(2)
        claimed = await _claimed_at(environment.database_url)
        stored = await _change_stored_at(environment.database_url)
        routed = await _routing_stamps(environment.database_url)
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await reader

    accepted = at_end.accepted - before.accepted
    # This load's texts only (claimed after it started), in claim order.
    ordered = sorted(
        (claimed[m], arrived)
        for m, arrived in stream.arrivals.items()
        if claimed.get(m, 0.0) >= started_epoch - 0.5
    )
    latencies = [(arrived - claim) * 1000 for claim, arrived in ordered]
    # The stream's own part: from notifier storing the change to its arrival on the page.
    delivery = [
        (arrived - stored[m]) * 1000
        for m, arrived in sorted(stream.arrivals.items(), key=lambda item: claimed.get(item[0], 0.0))
        if claimed.get(m, 0.0) >= started_epoch - 0.5 and m in stored
    ]
    staged = sorted(
        (claimed[m], *routed[m], stored[m], arrived)
        for m, arrived in stream.arrivals.items()
        if claimed.get(m, 0.0) >= started_epoch - 0.5 and m in stored and m in routed
    )
    return {
        "stages": _stages(staged),
        "replicas": replicas,
        "rate": args.rate,
        "posted_per_s": posted["per_s"],
        "accepted": accepted,
        "accepted_per_s": accepted / load_seconds,
        "webhook_p50_ms": posted["p50_ms"],
        "webhook_p99_ms": posted["p99_ms"],
        "errors": posted["errors"],
        "backlog_at_end": {
            "routing": at_end.accepted - at_end.stored,
            "search": at_end.accepted - at_end.indexed,
            "stream": accepted - streamed_at_end,
        },
        "drain_s": drain,
        "streamed_per_s_during": streamed_at_end / load_seconds,
        "streamed_per_s_after": streamed_in_drain / max(1e-9, drain),
        "reader_cpu_share": reader_cpu / load_seconds,
        "kafka_lag_after": sum(lag.values()),
        "kafka_lag_groups": {g: n for g, n in lag.items() if n},
        "streamed": len(latencies),
        **latency_summary(latencies),
        "delivery": latency_summary(delivery),
        "cpu_ms": {k: v * 1000 / max(1, accepted) for k, v in used.items() if not k.startswith("machine")},
        "machine_busy": used["machine busy"] / max(1e-9, used["machine total"]),
    }


def run_once(args, replicas: int, work: Path) -> dict:
    with bench_environment(["ingest", *CONSUMERS]) as environment:
        extra: list[ServiceProcess] = []
        ports = {name: service.port for name, service in environment.services.items()}
        env = {**service_urls(ports), **environment.env}
        try:
            for copy in range(1, replicas):
                for name in CONSUMERS:
                    extra.append(
                        ServiceProcess(name, free_port(), env, environment.log_dir / f"{name}-{copy + 1}.log")
                    )
            for service in extra:
                service.start()
            for service in extra:
                service.wait_ready()
            database = environment.database_url.rsplit("/", 1)[1]
            groups = {
                "ingest": lambda: [environment.services["ingest"].process.pid],
                **{
                    name: (
                        lambda n=name: (
                            [environment.services[n].process.pid]
                            + [s.process.pid for s in extra if s.name == n]
                        )
                    )
                    for name in CONSUMERS
                },
                "postgres": lambda: pids_matching(f" {database} "),
                "kafka": lambda: pids_matching("kafka.Kafka"),
            }
            result = asyncio.run(_measure(environment, CpuMeter(groups), args, work, replicas))
        finally:
            for service in extra:
                service.stop()
    report(result, args)
    return result


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.1f} ms"


def report(r: dict, args) -> None:
    print(
        f"\n== sustained load: {r['rate']:g} texts/s asked for {args.seconds:g} s, "
        f"{r['replicas']} replica(s) =="
    )
    print(
        f"  posted (wrk)        {r['posted_per_s']:,.1f}/s; accepted {r['accepted']:,} "
        f"({r['accepted_per_s']:,.1f}/s)"
        f"; webhook p50 {_ms(r['webhook_p50_ms'])}, p99 {_ms(r['webhook_p99_ms'])} {r['errors'] or ''}"
    )
    print(
        f"  claim -> stream     p50 {_ms(r['p50_ms'])}, p95 {_ms(r['p95_ms'])}, p99 {_ms(r['p99_ms'])},"
        f" max {_ms(r['max_ms'])} ({r['streamed']:,} of {r['accepted']:,} streamed)"
    )
    d = r["delivery"]
    print(
        f"  stored -> stream    p50 {_ms(d['p50_ms'])}, p99 {_ms(d['p99_ms'])}, max {_ms(d['max_ms'])};"
        f" p50 first / last tenth {_ms(d['first_tenth_p50_ms'])} / {_ms(d['last_tenth_p50_ms'])}"
        "  (the stream's own part)"
    )
    stages = r.get("stages") or {}
    print(
        "  parts p50/p99 (first tenth's p99)  "
        + "; ".join(
            f"{name} {_ms(v['p50'])} / {_ms(v['p99'])} ({_ms(v['first tenth p99'])})"
            for name, v in stages.items()
            if name != "p99 by tenth"
        )
    )
    print(
        "  p99 by tenth        "
        + ", ".join(f"{_ms(v)}" for v in (stages.get("p99 by tenth") or {}).values())
        + "  (of claim -> stream, in the order texts were claimed)"
    )
    print(
        f"  stream delivered    {r['streamed_per_s_during']:,.1f} changes/s during the load,"
        f" {r['streamed_per_s_after']:,.1f}/s after it; the reader (this process) used"
        f" {r['reader_cpu_share']:.0%} of a core during the load"
    )
    print(
        f"  p50 first / last tenth  {_ms(r['first_tenth_p50_ms'])} / {_ms(r['last_tenth_p50_ms'])}"
        "  (growing = not keeping up)"
    )
    print(
        f"  backlog at the end  {r['backlog_at_end']}; drained in {r['drain_s']:.1f} s;"
        f" Kafka lag after: {r['kafka_lag_after']:,} {r['kafka_lag_groups'] or ''}"
    )
    print(
        "  CPU ms per text     "
        + ", ".join(f"{k} {v:.2f}" for k, v in r["cpu_ms"].items())
        + f"; machine busy {r['machine_busy']:.0%}"
    )


def run(
    rate: float = 600,
    seconds: float = 300,
    replicas: tuple[int, ...] = (1, 2),
    senders: int = 2000,
    connections: int = 64,
    grace: float = 60,
    rates: tuple[float, ...] | None = None,
) -> list[dict]:
    """One run per replica count (at `rates[i]` when given, else `rate`); the comparison printed
    when there are several."""
    rates = rates or tuple(rate for _ in replicas)
    if len(rates) != len(replicas):
        raise ValueError("one rate per replica count")
    work = Path(tempfile.mkdtemp(prefix="sustained-load-"))
    print(
        f"[run] {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, load average "
        f"{os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs",
        flush=True,
    )
    results = [
        run_once(
            argparse.Namespace(
                rate=each_rate, seconds=seconds, senders=senders, connections=connections, grace=grace
            ),
            n,
            work,
        )
        for n, each_rate in zip(replicas, rates, strict=True)
    ]
    one, *more = results
    for r in more:
        r["speedup"] = r["accepted_per_s"] / max(1e-9, one["accepted_per_s"])
        r["cpu_ratio"] = services_cpu_ms(r) / max(1e-9, services_cpu_ms(one))
        r["consumers_cpu_ratio"] = consumers_cpu_ms(r) / max(1e-9, consumers_cpu_ms(one))
        print(
            f"\n== {r['replicas']} replicas at {r['rate']:g}/s vs 1 at {one['rate']:g}/s: accepted/s"
            f" {r['accepted_per_s']:,.1f} vs {one['accepted_per_s']:,.1f} ({r['speedup']:.2f}x);"
            f" services' CPU per text {services_cpu_ms(r):.2f} vs {services_cpu_ms(one):.2f} ms"
            f" ({r['cpu_ratio']:.2f}x); the replicated consumers' (routing, notifier, search)"
            f" {consumers_cpu_ms(r):.2f} vs {consumers_cpu_ms(one):.2f} ms"
            f" ({r['consumers_cpu_ratio']:.2f}x) =="
        )
    return results


def services_cpu_ms(result: dict) -> float:
    return sum(v for k, v in result["cpu_ms"].items() if k in ("ingest", *CONSUMERS))


def consumers_cpu_ms(result: dict) -> float:
    """The services that run as replicas (ingest stays one process)."""
    return sum(v for k, v in result["cpu_ms"].items() if k in CONSUMERS)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=600)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--replicas", default="1,2", help="comma-separated replica counts, one run each")
    parser.add_argument(
        "--rates", default=None, help="comma-separated rate per replica count (else --rate for each)"
    )
    parser.add_argument("--senders", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--grace", type=float, default=60, help="seconds allowed to drain after the load")
    args = parser.parse_args()
    run(
        args.rate,
        args.seconds,
        tuple(int(n) for n in args.replicas.split(",")),
        args.senders,
        args.connections,
        args.grace,
        tuple(float(r) for r in args.rates.split(",")) if args.rates else None,
    )


if __name__ == "__main__":
    main()
