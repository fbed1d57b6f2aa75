"""One chaos run: the cluster up, the load on, the faults one after another, the settling, the
checks, the table. `make chaos` runs the long profile, `make chaos-short` the short one."""

import asyncio
import os
import sys
import time
from dataclasses import dataclass

import asyncpg
import httpx

from devtools import demo
from shared.testing.infrastructure import ROOT, dsn
from tests.chaos.cluster import SEND_LEASE_SECONDS, Cluster, remove, start_cluster
from tests.chaos.faults import Fault, long_schedule, short_schedule
from tests.chaos.streams import ResumingStream, WebStream
from tests.chaos.traffic import Traffic, customer_phones
from tests.chaos.verify import Findings, check, settle, table

REPORTS = ROOT / "build" / "chaos"


@dataclass
class Profile:
    name: str
    text_rate: float  # inbound texts a second
    reply_rate: float  # staff replies a second
    customers: int
    schedule: list[Fault]
    gap_seconds: float  # after each fault is undone, still counted as its aftermath
    replicas: dict[str, int]
    # The short run does not wait for a killed replica to be ready again before the next fault
    # (a restart takes 20-60 s on a busy machine); the long one does.
    overlap_restarts: bool = False
    duration: float = 0.0  # the schedule repeats until this many seconds have passed
    settle_seconds: float = 120.0


def short_profile() -> Profile:
    return Profile(
        "short",
        text_rate=10,
        reply_rate=1,
        customers=60,
        schedule=short_schedule(),
        gap_seconds=3,
        # search and exporter once each: a killed one only delays its projection or its PDFs.
        replicas={"ingest": 2, "routing": 2, "notifier": 2, "search": 1, "exporter": 1, "web": 2},
        overlap_restarts=True,
    )


def long_profile(duration: float) -> Profile:
    return Profile(
        "long",
        text_rate=100,
        # What the dealership's two long codes may send (one text a second each), with room.
        reply_rate=1.5,
        customers=400,
        schedule=long_schedule(),
        gap_seconds=10,
        replicas={name: 2 for name in ("ingest", "routing", "notifier", "search", "exporter", "web")},
        duration=duration,
        settle_seconds=300,
    )


def profile_from_environment() -> Profile:
    """CHAOS_DURATION picks the long run; CHAOS_TEXT_RATE lowers its 100 texts a second for a
    machine whose cores cannot carry that beside a dozen service processes (the table says
    what was asked and what came in)."""
    duration = os.environ.get("CHAOS_DURATION")
    profile = long_profile(float(duration)) if duration else short_profile()
    if rate := os.environ.get("CHAOS_TEXT_RATE"):
        profile.text_rate = float(rate)
    return profile


@dataclass
class Outcome:
    findings: Findings
    table: str
    faults: list[Fault]
    seconds: float
    texts_sent: int
    reconnects: list[int]


async def _reply_conversations(database_url: str, phones: list[str], timeout: float = 60) -> list[str]:
    """The conversations of the customers staff will answer (they texted in first)."""
    deadline = time.monotonic() + timeout
    connection = await asyncpg.connect(dsn(database_url))
    try:
        while time.monotonic() < deadline:
            rows = await connection.fetch(
                "SELECT DISTINCT c.id FROM routing.conversations c"
                " JOIN routing.customer_phones p ON p.customer_id = c.customer_id"
                " WHERE c.account_id = $1 AND p.e164 = ANY($2::text[])",
                demo.ACCOUNT_ID,
                phones,
            )
            if len(rows) >= len(phones):
                return [str(row["id"]) for row in rows]
            await asyncio.sleep(0.5)
    finally:
        await connection.close()
    raise TimeoutError("the customers' first texts never made conversations")


async def _until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(1)
    return False


async def _settled_downstream(
    cluster: Cluster, traffic: Traffic, streams: list[ResumingStream], timeout: float
):
    """Replies at the simulator, notifications on the streams, the search index caught up."""
    accepted = {r.body for r in traffic.replies if r.accepted}

    async def replies_arrived() -> bool:
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                sent = (await client.get(f"{cluster.simulator.url}/simulate/sent")).json()
        except httpx.HTTPError:
            return False
        return accepted <= {s["body"] for s in sent if 200 <= s["http_status"] < 300}

    async def projections_caught_up() -> bool:
        connection = await asyncpg.connect(dsn(cluster.infra.database_url))
        try:
            routing = await connection.fetchval(
                "SELECT count(*) FROM routing.messages WHERE account_id = $1", demo.ACCOUNT_ID
            )
            indexed = await connection.fetchval(
                "SELECT count(*) FROM search.messages WHERE account_id = $1", demo.ACCOUNT_ID
            )
            notified = await connection.fetchval(
                "SELECT count(*) FROM notifier.notifications WHERE user_id = $1", demo.ADMIN_ID
            )
            unsent = await connection.fetchval(
                "SELECT count(*) FROM notifier.email_outbox WHERE status <> 'sent'"
            )
        finally:
            await connection.close()
        return routing == indexed and not unsent and all(len(set(s.received)) >= notified for s in streams)

    await _until(replies_arrived, timeout)
    await _until(projections_caught_up, timeout)


def progress(began: float, message: str) -> None:
    print(f"[chaos {time.monotonic() - began:6.1f} s] {message}", file=sys.stderr, flush=True)


async def run_chaos(profile: Profile) -> Outcome:
    """The logs of a failed run are kept in build/chaos/logs-<profile>."""
    began = time.monotonic()
    cluster = await start_cluster(profile.replicas)
    progress(began, f"cluster up: {', '.join(r.label for r in cluster.all_replicas())}")
    failed = True
    try:
        outcome = await _run(cluster, profile, began)
        failed = bool(outcome.findings.failures())
        return outcome
    finally:
        await asyncio.to_thread(remove, cluster, REPORTS / f"logs-{profile.name}" if failed else None)


async def _run(cluster: Cluster, profile: Profile, began: float) -> Outcome:
    database_url = cluster.infra.database_url
    traffic = Traffic(cluster.urls("ingest"), cluster.urls("routing"), database_url)
    phones = customer_phones(profile.customers)
    token = await traffic.token()
    streams = [ResumingStream(cluster.urls("notifier"), token, first=n) for n in (0, 1)]
    # The same person with the inbox open in a browser: through web, which is killed too.
    streams.append(WebStream(cluster.urls("web"), demo.ADMIN_EMAIL, demo.PASSWORD))
    for stream in streams:
        stream.start()
    stop_load, stop_watching = asyncio.Event(), asyncio.Event()
    background = [
        asyncio.create_task(traffic.texts_in(profile.text_rate, phones, stop_load)),
        asyncio.create_task(traffic.watch_stored(stop_watching)),
    ]
    reply_to = await _reply_conversations(database_url, phones[:8])
    cluster.staff_token, cluster.conversation_ids = token, reply_to
    background.append(asyncio.create_task(traffic.replies_out(profile.reply_rate, reply_to, stop_load)))
    phases = ["steady"]
    faults: list[Fault] = []
    restoring: list[asyncio.Task] = []
    try:
        await asyncio.sleep(profile.gap_seconds)
        while True:
            for template in profile.schedule:
                fault = Fault(template.label, template.inject, template.down_seconds)
                faults.append(fault)
                if fault.label not in phases:
                    phases.append(fault.label)
                traffic.phase = fault.label
                progress(began, f"{fault.label} ({len(traffic.texts)} texts so far)")
                fault.started = time.monotonic()
                restore = await fault.inject(cluster)
                await asyncio.sleep(fault.down_seconds)
                restoring.append(asyncio.create_task(_restore(fault, restore, began)))
                if not profile.overlap_restarts:
                    await restoring[-1]
                await asyncio.sleep(profile.gap_seconds)
                traffic.phase = "steady"
            if time.monotonic() - began >= profile.duration:
                break
        await asyncio.gather(*restoring)
    finally:
        stop_load.set()
        await traffic.drain()
    progress(began, f"load stopped: {len(traffic.texts)} texts, {len(traffic.replies)} replies; settling")
    await settle(traffic, profile.settle_seconds)
    # A reply whose sender was killed waits for the dead sender's lease, then the release job.
    await _settled_downstream(
        cluster, traffic, streams, max(profile.settle_seconds / 2, SEND_LEASE_SECONDS + 40)
    )
    progress(began, "settled; checking")
    stop_watching.set()
    await asyncio.gather(*background, return_exceptions=True)
    for stream in streams:
        await stream.stop()
    await traffic.close()
    findings = await check(cluster, traffic, streams, phases)
    report = "\n".join([table([*findings.rows, _total(findings)]), "", *_summary(findings, streams, faults)])
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / f"{profile.name}.md").write_text(report + "\n")
    return Outcome(
        findings,
        report,
        faults,
        time.monotonic() - began,
        len(traffic.texts),
        [s.reconnects for s in streams],
    )


def _summary(findings: Findings, streams: list[ResumingStream], faults: list[Fault]) -> list[str]:
    """The checks the table has no column for, one line each."""
    lines = [
        f"- notifications: {findings.notifications_expected} stored for the admin; "
        + "; ".join(
            f"stream {n}: {len(s.received)} received, {len(set(s.received))} distinct, "
            f"{s.reconnects} reconnections"
            for n, s in enumerate(streams)
        ),
        f"- search index: {findings.search_missing} missing, {findings.search_extra} extra",
        f"- e-mails sent: {findings.emails_sent}",
        f"- poison events dead-lettered: {len(findings.poison_dead_lettered)}; other dead letters: "
        + (", ".join(f"{t}: {len(r)}" for t, r in findings.dead_letters.items()) or "none"),
        *(f"- {what}: {detail}" for what, _, detail in findings.export_checks),
        "- faults (time to recover): "
        + ", ".join(f"{f.label} {f.restored - f.started:.0f} s" for f in faults if f.restored),
    ]
    return lines


async def _restore(fault: Fault, restore, began: float) -> None:
    await restore()
    fault.restored = time.monotonic()
    progress(began, f"{fault.label}: back after {fault.restored - fault.started:.1f} s")


def _total(findings: Findings):
    from tests.chaos.verify import Row

    total = Row("all")
    for row in findings.rows:
        total.texts_in += row.texts_in
        total.stored += row.stored
        total.lost += row.lost
        total.duplicated += row.duplicated
        total.refused += row.refused
        total.replies += row.replies
        total.replies_sent_once += row.replies_sent_once
        total.longest_delay = max(total.longest_delay, row.longest_delay)
    return total
