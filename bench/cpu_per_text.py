"""CPU per inbound text, per service (issue 17, goal 2): N signed Twilio texts posted to ingest
by wrk at a fixed rate, through the whole pipeline (ingest -> routing -> notifier, search), and
the CPU time each process used from the first post until every text is stored in routing and
indexed by search (plus a short settle for notifier), read from /proc, divided by the texts
ingest accepted. PostgreSQL (the run database's backends) and the Kafka broker are shown beside
(the broker serves every other topic on this host too, so its figure is only indicative). Each
process's idle use (consumers polling, timers: measured for a few seconds before the load) is
also subtracted, in a second column: at a low rate it is a large part of "per text".

Texts come from a pool of senders (`--senders`, default 200): most land in an open conversation,
as in a dealership's day; `--senders 0` makes every text a new customer's.

    .venv/bin/python bench/cpu_per_text.py [--rate 100] [--seconds 20] [--senders 200] [--rounds 1]
        [--profile] [--env NAME=VALUE ...]

`--profile` records py-spy flame graphs of the four services during one more load run
(build/profile-cpu-per-text-<service>.svg; py-spy from `pip install --target /tmp/pyspy py-spy`);
the CPU figures come from the runs without it. Baseline (issue 17, 2026-12-05): about 9 ms per
text across ingest, routing, notifier and search (30-50 % of a core each during a wrk run).
Target: <= 4.5 ms.

Side by side at 16:30 UTC the same day (load average 4.6-5.5, 2 rounds each): batches gathered
up to 100 ms (shared/kafka/consumer.py: BatchGathering) 3.44 ms a text (ingest 1.33, routing
0.96, notifier 0.86, search 0.30; 1.21 PostgreSQL transactions a text) against 6.21 ms with
`--env KAFKA_BATCH_GATHER_MAX_MS=0 --env GATHER_UP_TO_SECONDS=0`, the 15 ms gather alone (1.48,
1.87, 1.88, 0.97; 2.51 transactions a text).
"""

import argparse
import asyncio
import datetime
import functools
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlencode

import asyncpg
from environment import ROOT, CpuMeter, bench_environment, dsn, pids_matching
from ingest_edge import PYSPY, run_wrk

from devtools import demo, processes
from devtools.carrier_simulator.twilio import inbound_sms_form, sign

SERVICES = ("ingest", "routing", "notifier", "search")

# Four services creating their topics and joining their consumer groups at once can take longer
# than devtools' 60 s on a shared, saturated 2-core host (seen: 39 s for ingest alone to answer).
processes.ServiceProcess.wait_ready = functools.partialmethod(
    processes.ServiceProcess.wait_ready, timeout=240
)
BASELINE_TOTAL_MS = 9.0


def write_texts(path: Path, url: str, count: int, senders: int, tag: str) -> None:
    with path.open("w") as out:
        for index in range(count):
            sender = index % senders if senders else index
            form = inbound_sms_form(
                demo.TWILIO_ACCOUNT_SID, f"+1439{sender:07d}", demo.DEALERSHIP_NUMBER, f"cpu {tag} {index}"
            )
            out.write(f"{sign(demo.TWILIO_AUTH_TOKEN, url, form)}\t{urlencode(form)}\n")


class PipelineCounts(NamedTuple):
    accepted: int  # webhooks ingest accepted
    stored: int  # inbound messages routing stored
    indexed: int  # messages search indexed


async def pipeline_counts(database_url: str) -> PipelineCounts:
    connection = await asyncpg.connect(dsn(database_url))
    try:
        return PipelineCounts(
            await connection.fetchval("SELECT count(*) FROM ingest.received_webhooks"),
            await connection.fetchval("SELECT count(*) FROM routing.messages WHERE direction = 'inbound'"),
            await connection.fetchval("SELECT count(*) FROM search.messages"),
        )
    finally:
        await connection.close()


async def _transactions(database_url: str) -> int:
    """Transactions committed in the run's database so far (every service's, and this script's
    few): per text, how well the consumers batch (one transaction per batch)."""
    connection = await asyncpg.connect(dsn(database_url))
    try:
        await connection.execute("SELECT pg_stat_clear_snapshot()")
        return await connection.fetchval(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        )
    finally:
        await connection.close()


def wait_drained(database_url: str, timeout: float) -> tuple[int, int, int, float]:
    """Waits until routing stored and search indexed every text ingest accepted."""
    started = time.monotonic()
    while True:
        accepted, stored, indexed = asyncio.run(pipeline_counts(database_url))
        waited = time.monotonic() - started
        if (stored >= accepted and indexed >= accepted) or waited > timeout:
            return accepted, stored, indexed, waited
        time.sleep(0.5)


def run(
    rate: float = 100,
    seconds: float = 20,
    senders: int = 200,
    rounds: int = 1,
    with_profile: bool = False,
    settle: float = 3.0,
    idle_seconds: float = 5.0,
    extra_env: dict[str, str] | None = None,
) -> dict:
    work = Path(tempfile.mkdtemp(prefix="cpu-per-text-"))
    load_before = os.getloadavg()
    rows: list[dict] = []
    with bench_environment(list(SERVICES), extra_env) as environment:
        database = environment.database_url.rsplit("/", 1)[1]
        ingest = environment.url("ingest")
        route = "/webhooks/twilio/sms"
        groups = {name: (lambda p=environment.services[name].process.pid: [p]) for name in SERVICES}
        groups["postgres"] = lambda: pids_matching(f" {database} ")
        groups["kafka"] = lambda: pids_matching("kafka.Kafka")
        connections = 32

        def load(tag: str, count_seconds: float, meter: CpuMeter | None) -> dict:
            bodies = work / f"texts-{tag}.txt"
            write_texts(bodies, f"{ingest}{route}", int(rate * count_seconds * 1.5) + 100, senders, tag)
            before = asyncio.run(pipeline_counts(environment.database_url))
            transactions = asyncio.run(_transactions(environment.database_url))
            if meter:
                meter.start()
            load_started = time.monotonic()
            # On one schedule at the rate (open loop): gaps per connection fell behind by ingest's
            # latency (400/s asked posted 260-380/s on a busy machine).
            result = run_wrk(ingest, route, bodies, count_seconds, connections, rate=rate)
            accepted, stored, indexed, waited = wait_drained(environment.database_url, 240)
            time.sleep(settle)
            used = meter.stop() if meter else {}
            transactions = asyncio.run(_transactions(environment.database_url)) - transactions
            texts = accepted - before[0]
            elapsed = time.monotonic() - load_started
            return {
                "elapsed_s": elapsed,
                "texts": texts,
                "stored": stored - before[1],
                "indexed": indexed - before[2],
                "drain_s": waited,
                "post_p99_ms": result["p99_ms"],
                "transactions_per_text": transactions / max(1, texts),
                "per_s": result["per_s"],
                "cpu_ms": {k: v * 1000 / max(1, texts) for k, v in used.items() if k != "machine total"},
                "machine_busy": used.get("machine busy", 0) / max(1e-9, used.get("machine total", 1)),
            }

        print(
            f"[run] {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, {rate:g} texts/s for "
            f"{seconds:g} s, {senders or 'a new'} sender(s), load average {load_before[0]:.2f}",
            flush=True,
        )
        load("warm", 3, None)
        idle = CpuMeter(groups)
        idle.start()
        time.sleep(idle_seconds)
        idle_used = idle.stop()
        idle_ms_per_s = {k: v * 1000 / idle_seconds for k, v in idle_used.items() if k in groups}
        print(
            "[idle] CPU ms per second with no texts: "
            + ", ".join(f"{k} {v:.1f}" for k, v in idle_ms_per_s.items()),
            flush=True,
        )
        for round_no in range(rounds):
            row = load(f"r{round_no}", seconds, CpuMeter(groups))
            # What the processes use anyway (consumers polling, timers), spread over the texts.
            row["net_cpu_ms"] = {
                k: max(0.0, v - idle_ms_per_s.get(k, 0.0) * row["elapsed_s"] / max(1, row["texts"]))
                for k, v in row["cpu_ms"].items()
                if k in groups
            }
            rows.append(row)
            cpu = ", ".join(f"{k} {v:.2f}" for k, v in row["cpu_ms"].items() if k != "machine busy")
            print(
                f"[round {round_no + 1}/{rounds}] {row['texts']} texts ({row['per_s']:.0f}/s posted), stored "
                f"{row['stored']}, indexed {row['indexed']}, drained {row['drain_s']:.1f} s after the load; "
                f"CPU ms/text: {cpu}; machine busy {row['machine_busy']:.0%}; "
                f"{row['transactions_per_text']:.2f} PostgreSQL transactions/text",
                flush=True,
            )
        if with_profile:
            spies = []
            for name in SERVICES:
                output = ROOT / "build" / f"profile-cpu-per-text-{name}.svg"
                output.parent.mkdir(parents=True, exist_ok=True)
                spies.append(
                    (
                        output,
                        subprocess.Popen(
                            [
                                str(PYSPY),
                                "record",
                                "-p",
                                str(environment.services[name].process.pid),
                                "-d",
                                str(int(seconds) + 5),
                                "-r",
                                "100",
                                "-o",
                                str(output),
                                "--nonblocking",
                            ],
                            env={**os.environ, "PYTHONPATH": str(PYSPY.parent.parent)},
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                        ),
                    )
                )
            load("profile", seconds, None)
            for output, spy in spies:
                spy.wait(120)
                print(f"[profile] {output}", flush=True)
    result = summarize(rows, rate, seconds, senders, load_before, os.getloadavg())
    report(result)
    return result


def summarize(rows: list[dict], rate, seconds, senders, load_before, load_after) -> dict:
    names = [*SERVICES, "postgres", "kafka"]
    per = {name: statistics.median(row["cpu_ms"].get(name, 0.0) for row in rows) for name in names}
    net = {name: statistics.median(row["net_cpu_ms"].get(name, 0.0) for row in rows) for name in names}
    totals = [sum(row["cpu_ms"].get(name, 0.0) for name in SERVICES) for row in rows]
    net_totals = [sum(row["net_cpu_ms"].get(name, 0.0) for name in SERVICES) for row in rows]
    return {
        "rate": rate,
        "seconds": seconds,
        "senders": senders,
        "rounds": len(rows),
        "texts": sum(row["texts"] for row in rows),
        "cpu_ms": per,
        "net_cpu_ms": net,
        "services_total_ms": statistics.median(totals),
        "services_net_ms": statistics.median(net_totals),
        "posted_per_s": statistics.median(row["per_s"] for row in rows),
        "transactions_per_text": statistics.median(row["transactions_per_text"] for row in rows),
        "all_totals_ms": totals,
        "load_average": (load_before[0], load_after[0]),
        "rows": rows,
    }


def report(result: dict) -> None:
    print()
    print(
        f"== CPU per inbound text, {result['texts']} texts at {result['rate']:g}/s over {result['rounds']} "
        f"round(s), medians (load average {result['load_average'][0]:.1f} -> "
        f"{result['load_average'][1]:.1f}) =="
    )
    print(f"  {'':<10} {'all':>8} {'less idle':>10}   (ms of CPU per text)")
    for name in (*SERVICES, "postgres", "kafka"):
        print(f"  {name:<10} {result['cpu_ms'][name]:8.2f} {result['net_cpu_ms'][name]:10.2f}")
    total = result["services_total_ms"]
    rounds = ", ".join(f"{v:.2f}" for v in result["all_totals_ms"])
    print(
        f"  {'services':<10} {total:6.2f} ms (rounds {rounds}); baseline {BASELINE_TOTAL_MS:g} ms, ratio "
        f"{total / BASELINE_TOTAL_MS:.2f} (target <= 4.5 ms); less the idle processes' own use "
        f"{result['services_net_ms']:.2f} ms; texts posted at {result['posted_per_s']:.0f}/s; "
        f"{result['transactions_per_text']:.2f} PostgreSQL transactions per text (all services)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--senders", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for every service (e.g. KAFKA_BATCH_GATHER_MAX_MS=0), to compare settings",
    )
    args = parser.parse_args()
    extra_env = dict(item.split("=", 1) for item in args.env)
    if extra_env:
        print(f"[env] settings: {extra_env}", flush=True)
    run(args.rate, args.seconds, args.senders, args.rounds, args.profile, extra_env=extra_env)


if __name__ == "__main__":
    main()
