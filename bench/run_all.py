"""Runs the benchmarks of bench/, each in its own isolated environment, and prints one table:
every figure with its baseline and the ratio between them (issue 17, goal 4).

A baseline is measured in the same run wherever one exists (bare FastAPI beside ingest's stack,
Kafka's own producer beside ingest, one replica beside two, the raw SQL beside the API, the first
member of a fan-out beside the last); otherwise it is the figure written down before the work it
measures (issue 17's 9 ms of CPU per text) or the target, and the table says which.

    .venv/bin/python bench/run_all.py [--only edge,cpu,...] [--quick]      # or: make bench

The whole table takes about half an hour (the inbox and search loads write a million messages
each; the sustained load runs 5 minutes at 600/s, then 2 minutes each for the replicas' scaling);
`--quick` shrinks every load (20,000 conversations, 150 texts/s for 30 s...) to a few minutes and
says so in the figures' names.
Not in the table: ingest_checks.py (its Python client is the limit; ingest_edge.py replaces it),
and the side-by-side tools for a change, which need the commit or copy to compare with:
handler_cpu.py, ingest_webhook_cpu.py, web_page_layers.py.
"""

import argparse
import asyncio
import datetime
import os
import platform
import statistics
from collections.abc import Callable
from pathlib import Path

import cpu_per_text
import e2e_latency
import export
import inbox_list
import ingest_catch_up
import ingest_edge
import ingest_layers
import ingest_throughput
import notifications_fanout
import outbound_throughput
import search_lag
import search_queries
import sustained_load
import web_inbox_list
import web_live_latency
from environment import _admin_sql

# (figure, value, baseline, baseline's kind, ratio, target)
Row = tuple[str, str, str, str, str, str]


def _f(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def _ratio(value: float | None, baseline: float | None) -> str:
    return "n/a" if not value or not baseline else f"{value / baseline:.2f}"


def _row(
    figure: str,
    value: float | None,
    baseline: float | None = None,
    baseline_is: str = "",
    target: str = "",
    digits: int = 1,
) -> Row:
    """A figure beside its baseline (measured in the same run, written down earlier, or the
    target, as `baseline_is` says) and their ratio."""
    if baseline is None:
        return (figure, _f(value, digits), "", "", "", target)
    return (figure, _f(value, digits), _f(baseline, digits), baseline_is, _ratio(value, baseline), target)


def edge(quick: bool) -> list[Row]:
    r = ingest_edge.run(seconds=5 if quick else 10, rounds=1 if quick else 3)
    fastapi, stack, ingest, half = r["fastapi"], r["stack"], r["ingest"], r["ingest_half"]
    return [
        _row("edge: bare FastAPI req/s (wrk -c32)", fastapi["per_s"], digits=0),
        _row(
            "edge: ingest's stack req/s",
            stack["per_s"],
            fastapi["per_s"],
            "bare FastAPI, same run",
            ">= 0.60",
            0,
        ),
        _row(
            "edge: ingest signed webhooks req/s",
            ingest["per_s"],
            stack["per_s"],
            "stack, same run",
            ">= 0.50",
            0,
        ),
        _row("edge: ingest p99 ms at saturation", ingest["p99_ms"], 350, "issue 17 (350-690)"),
        _row("edge: ingest p99 ms at half saturation", half["p99_ms"], 50, "target", "< 1.00"),
        _row(
            "edge: ingest CPU ms per webhook", ingest["cpu_ms"], stack["cpu_ms"], "stack, same run", digits=2
        ),
    ]


def layers(quick: bool) -> list[Row]:
    r = ingest_layers.run(n=1000 if quick else 3000, rounds=3 if quick else 5)
    bare = r.pop("bare FastAPI")
    return [
        _row("layers: bare FastAPI us/request (in-process)", bare),
        *(
            _row(f"layers: {name} us/request", value, bare, "bare FastAPI, same run")
            for name, value in r.items()
        ),
    ]


def cpu(quick: bool) -> list[Row]:
    r = cpu_per_text.run(rate=100, seconds=10 if quick else 20, rounds=1 if quick else 2)
    return [
        *(_row(f"cpu per text: {name} ms", r["cpu_ms"][name], digits=2) for name in cpu_per_text.SERVICES),
        *(
            _row(f"cpu per text: {name} ms (beside)", r["cpu_ms"][name], digits=2)
            for name in ("postgres", "kafka")
        ),
        _row(
            "cpu per text: 4 services ms",
            r["services_total_ms"],
            cpu_per_text.BASELINE_TOTAL_MS,
            "issue 17",
            "<= 0.50",
            2,
        ),
    ]


def throughput(quick: bool) -> list[Row]:
    r = ingest_throughput.run(count=1000 if quick else 3000)
    return [
        _row(
            "ingest accepted webhooks/s (Python client, C=32)",
            r["accepted_per_s"],
            r["kafka"]["records_per_s"],
            "Kafka ProducerPerformance, same run",
        ),
    ]


def e2e(quick: bool) -> list[Row]:
    r = e2e_latency.run(rate=100, seconds=20 if quick else 60)
    return [
        _row(f"e2e webhook -> SSE p50 ms ({r['rate']:g}/s)", r["p50_ms"]),
        _row("e2e webhook -> SSE p99 ms", r["p99_ms"], 500, "target (issue 17)", "< 1.00"),
        _row(
            "e2e p50 ms, last 10 % (keeping up?)",
            r["last_tenth_p50_ms"],
            r["first_tenth_p50_ms"],
            "first 10 %, same run",
            "~1",
        ),
        _row("e2e delivered to the stream", r["received"], r["sent"], "sent", "1.00", 0),
    ]


def fanout(quick: bool) -> list[Row]:
    r = notifications_fanout.run(streams=200 if quick else 1000, rounds=3 if quick else 5)
    firsts = [x["first_ms"] for x in r["rounds"] if x["first_ms"] is not None]
    first = sorted(firsts)[len(firsts) // 2] if firsts else None
    return [
        _row(
            f"fan-out to 50 of {r['streams']} streams, last member ms",
            r["last_member_p50_ms"],
            first,
            "first member, same run",
        ),
    ]


def outbound(quick: bool) -> list[Row]:
    r = outbound_throughput.run(count=100 if quick else 400)
    return [_row("outbound texts/s through the simulator", r["lifted"]["per_second"], 92.1, "2026-11-25")]


def sustained(quick: bool) -> list[Row]:
    rate, seconds = (150, 30) if quick else (600, 300)
    grace = 30 if quick else 60
    (one,) = sustained_load.run(rate=rate, seconds=seconds, replicas=(1,), grace=grace)
    label = f"sustained {rate}/s x {seconds:g} s, 1 replica"
    rows = [
        _row(f"{label}: texts accepted/s", one["accepted_per_s"], rate, "asked", ">= 1.00 (600/s)"),
        _row(f"{label}: claim -> staff stream p99 ms", one["p99_ms"], 500, "target (issue 17)", "< 1.00"),
        _row(f"{label}: webhook p99 ms (wrk)", one["webhook_p99_ms"]),
        _row(f"{label}: Kafka lag left, records", one["kafka_lag_after"], target="0", digits=0),
    ]
    # Two cores do not hold two replicas of everything at 2x: each replica gets what one process
    # had (one at R, two at 2R), and the replicated consumers' CPU per text says whether they scale.
    half, scaling_seconds = rate / 2, seconds if quick else 120
    single, double = sustained_load.run(
        rate=half, seconds=scaling_seconds, replicas=(1, 2), rates=(half, rate), grace=grace
    )
    label = f"sustained 2 replicas at {rate:g}/s x {scaling_seconds:g} s"
    return [
        *rows,
        _row(f"{label}: texts accepted/s", double["accepted_per_s"], rate, "asked", ">= 1.00"),
        _row(f"{label}: claim -> staff stream p99 ms", double["p99_ms"], 500, "target (issue 17)", "< 1.00"),
        _row(
            f"replicas' scaling: consumers' CPU ms per text, 2 at {rate:g}/s / 1 at {half:g}/s",
            sustained_load.consumers_cpu_ms(double),
            sustained_load.consumers_cpu_ms(single),
            "1 replica, same run",
            "<= 1.25 (scales by CPU)",
            digits=2,
        ),
    ]


# The inbox benchmark's database, kept for the web page's benchmark (same data) and dropped by it.
_LOADED_INBOX: list[str] = []


def inbox(quick: bool) -> list[Row]:
    conversations = 20_000 if quick else 100_000
    run = inbox_list.run(conversations=conversations, repeat=10 if quick else 20, keep=True)
    _LOADED_INBOX.append(run["database"])
    results = run["results"]
    lists = [r for r in results if not r["case"].endswith("counts")]
    counts = [r for r in results if r["case"].endswith("counts")]
    worst = max(r["api_p95"] for r in lists)
    return [
        _row(
            f"inbox list at {conversations:,} conversations: worst API p95 ms ({len(lists)} cases)",
            worst,
            30,
            "target (issue 4)",
            "< 1.00",
        ),
        _row(
            "inbox list: median API p50 ms / raw SQL p50",
            statistics.median(r["api_p50"] for r in lists),
            statistics.median(r["sql_p50"] for r in lists),
            "the SQL alone, same run",
        ),
        _row(
            "inbox counts: worst API p95 ms",
            max(r["api_p95"] for r in counts),
            451.7,
            "before the counters (2026-12-05)",
        ),
    ]


def catch_up(quick: bool) -> list[Row]:
    r = ingest_catch_up.run(count=2_000 if quick else 10_000, idle_numbers=50 if quick else 200)
    return [
        *(
            _row(
                f"catch-up of {r['count']:,} missed {carrier} texts, seconds",
                r[f"{carrier}_s"],
                r["baseline_s"],
                "the same events straight to Kafka",
                digits=2,
            )
            for carrier in ("twilio", "telnyx")
        ),
        _row(
            "catch-up idle cycle, ms per number",
            r["idle_ms_per_number"],
            r["idle_baseline_ms_per_number"],
            "one list request + one round trip",
            digits=2,
        ),
    ]


def web_page(quick: bool) -> list[Row]:
    options = ["--connections", "1", "--seconds", "5" if quick else "10"]
    if _LOADED_INBOX:
        options += ["--database", _LOADED_INBOX[0]]
    elif quick:
        options += ["--conversations", "20000"]
    try:
        results = web_inbox_list.run(web_inbox_list.options(options))
    finally:
        for name in _LOADED_INBOX:
            asyncio.run(_admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        _LOADED_INBOX.clear()
    rows: list[Row] = []
    for page in (r for r in results if r["label"] == "web"):
        routing = page["baseline"]
        rows += [
            _row(f"web page {page['case']} p95 ms (wrk -c1)", page["p95"], 50, "target (issue 13)", "< 1.00"),
            _row(
                f"web page {page['case']} p95 / routing's list call p95",
                page["p95"],
                routing["p95"],
                "routing's call, same run",
                "<= 1.50",
            ),
            _row(
                f"web page {page['case']}: web's CPU ms per page",
                page["cpu_ms"]["web"],
                routing["cpu_ms"]["routing"],
                "routing's CPU per call, same run",
                digits=2,
            ),
        ]
    return rows


def search(quick: bool) -> list[Row]:
    customers = 20_000 if quick else 100_000
    results = search_queries.run(customers=customers, repeat=20 if quick else 30)
    worst = max(results, key=lambda r: r["api_p95"])
    return [
        _row(
            f"search at {customers:,} customers: worst API p95 ms ({worst['case']})",
            worst["api_p95"],
            25,
            "target (issue 7)",
            "< 1.00",
        ),
        _row(
            "search: median API p50 ms / hand-written SQL p50",
            statistics.median(r["api_p50"] for r in results),
            statistics.median(r["sql_p50"] for r in results),
            "the SQL alone, same run",
        ),
    ]


def indexing(quick: bool) -> list[Row]:
    r = search_lag.run(rate=500, seconds=10 if quick else 20)
    return [
        _row(
            f"search indexing lag p99 ms at {r['rate']}/s",
            r["p99_ms"],
            947,
            "2026-12-02, before the status index",
        ),
        _row(
            "search indexing lag p50 ms, last 10 % (keeping up?)",
            r["last_tenth_p50_ms"],
            r["first_tenth_p50_ms"],
            "first 10 %, same run",
            "<= ~1",
        ),
        _row("search events applied", r["applied"], r["sent"], "published", "1.00", digits=0),
    ]


# 2026-12-02's figures (bench/README.md): seconds and peak RSS per size.
EXPORT_BEFORE = {100: (0.29, 101), 1000: (2.34, 121), 10000: (24.23, 140)}


def pdf(quick: bool) -> list[Row]:
    rows: list[Row] = []
    for r in export.run((100, 1000) if quick else (100, 1000, 10000)):
        seconds, rss = EXPORT_BEFORE[r["messages"]]
        rows += [
            _row(
                f"export {r['messages']:,} messages to PDF, seconds",
                r["seconds"],
                seconds,
                "2026-12-02",
                digits=2,
            ),
            _row(
                f"export {r['messages']:,} messages, peak RSS MB",
                r["peak_rss_mb"],
                rss,
                "2026-12-02",
                "bounded",
                0,
            ),
        ]
    return rows


def live(quick: bool) -> list[Row]:
    r = web_live_latency.run(rate=50, seconds=20 if quick else 40, grace=15)
    return [
        _row(
            "web: webhook -> row in an open page p99 ms (50/s)", r["p99"], 1000, "target (issue 13)", "< 1.00"
        ),
        _row("web: rows seen in the page", r["seen"], r["sent"], "texts sent", "1.00", digits=0),
    ]


BENCHMARKS: dict[str, Callable[[bool], list[Row]]] = {
    "layers": layers,
    "edge": edge,
    "cpu": cpu,
    "throughput": throughput,
    "e2e": e2e,
    "fanout": fanout,
    "outbound": outbound,
    "sustained": sustained,
    "inbox": inbox,
    "web": web_page,
    "search": search,
    "indexing": indexing,
    "export": pdf,
    "live": live,
    "catch_up": catch_up,
}


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    memory = next(
        (
            line.split()[1]
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        "0",
    )
    gib = int(memory) // 1024 // 1024
    return f"{os.cpu_count()} x {model}, {gib} GiB, {platform.system()} {platform.release()}"


def print_table(rows: list[Row], started: datetime.datetime, load: tuple[float, float]) -> None:
    header = ("figure", "value", "baseline", "baseline is", "ratio", "target")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    print()
    print(
        f"== Switchboard benchmarks, {started:%Y-%m-%d %H:%M} UTC; {machine()}; "
        f"load average {load[0]:.1f} -> {load[1]:.1f} =="
    )
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--only", default=",".join(BENCHMARKS), help=f"comma-separated, of {', '.join(BENCHMARKS)}"
    )
    parser.add_argument("--quick", action="store_true", help="shorter runs, one round each")
    args = parser.parse_args()
    started = datetime.datetime.now(datetime.UTC)
    load_before = os.getloadavg()[0]
    rows: list[Row] = []
    for name in args.only.split(","):
        try:
            rows += BENCHMARKS[name.strip()](args.quick)
        except Exception as exc:  # one failing benchmark leaves the others' figures
            rows.append((f"{name}: failed", f"{type(exc).__name__}: {exc}"[:80], "", "", "", ""))
    for name in _LOADED_INBOX:  # the web page's benchmark was not asked for
        asyncio.run(_admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print_table(rows, started, (load_before, os.getloadavg()[0]))


if __name__ == "__main__":
    main()
