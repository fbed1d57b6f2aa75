"""Runs the benchmarks of bench/, each in its own isolated environment, and prints one table:
every figure with its baseline and the ratio between them (issue 17, goal 4).

A baseline is measured in the same run wherever one exists (bare FastAPI beside ingest's stack,
Kafka's own producer beside ingest, one replica beside two, the raw SQL beside the API, the first
member of a fan-out beside the last); otherwise it is the figure written down before the work it
measures (issue 17's 9 ms of CPU per text) or the target, and the table says which.

    .venv/bin/python bench/run_all.py [--only edge,cpu,...] [--quick]      # or: make bench

The whole table takes about half an hour (the inbox and search loads write a million messages
each; the sustained load runs 5 minutes per replica count); `--quick` shrinks every load (20,000
conversations, 150 texts/s for 30 s...) to a few minutes and says so in the figures' names.
Not in the table: ingest_checks.py (its Python client is the limit; ingest_edge.py replaces it)
and handler_cpu.py (a side-by-side tool for a change: it needs the commit to compare with).
"""

import argparse
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
import ingest_edge
import ingest_layers
import ingest_throughput
import notifications_fanout
import outbound_throughput
import search_lag
import search_queries
import sustained_load
import web_live_latency

# (figure, value, baseline, baseline's kind, ratio, target)
Row = tuple[str, str, str, str, str, str]


def _f(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def _ratio(value: float | None, baseline: float | None) -> str:
    return "n/a" if not value or not baseline else f"{value / baseline:.2f}"


def edge(quick: bool) -> list[Row]:
    r = ingest_edge.run(seconds=5 if quick else 10, rounds=1 if quick else 3)
    fastapi, stack, ingest, half = r["fastapi"], r["stack"], r["ingest"], r["ingest_half"]
    return [
        ("edge: bare FastAPI req/s (wrk -c32)", _f(fastapi["per_s"], 0), "", "", "", ""),
        (
            "edge: ingest's stack req/s",
            _f(stack["per_s"], 0),
            _f(fastapi["per_s"], 0),
            "bare FastAPI, same run",
            f"{r['stack_to_fastapi']:.2f}",
            ">= 0.60",
        ),
        (
            "edge: ingest signed webhooks req/s",
            _f(ingest["per_s"], 0),
            _f(stack["per_s"], 0),
            "stack, same run",
            f"{r['ingest_to_stack']:.2f}",
            ">= 0.50",
        ),
        ("edge: ingest p99 ms at saturation", _f(ingest["p99_ms"]), "350-690", "issue 17", "", ""),
        (
            "edge: ingest p99 ms at half saturation",
            _f(half["p99_ms"]),
            "50",
            "target",
            _ratio(half["p99_ms"], 50),
            "< 1.00",
        ),
        (
            "edge: ingest CPU ms per webhook",
            _f(ingest["cpu_ms"], 2),
            _f(stack["cpu_ms"], 2),
            "stack, same run",
            _ratio(ingest["cpu_ms"], stack["cpu_ms"]),
            "",
        ),
    ]


def layers(quick: bool) -> list[Row]:
    r = ingest_layers.run(n=1000 if quick else 3000, rounds=3 if quick else 5)
    bare = r["bare FastAPI"]
    rows: list[Row] = [("layers: bare FastAPI us/request (in-process)", _f(bare), "", "", "", "")]
    for name, value in r.items():
        if name != "bare FastAPI":
            rows.append(
                (
                    f"layers: {name} us/request",
                    _f(value),
                    _f(bare),
                    "bare FastAPI, same run",
                    _ratio(value, bare),
                    "",
                )
            )
    return rows


def cpu(quick: bool) -> list[Row]:
    r = cpu_per_text.run(rate=100, seconds=10 if quick else 20, rounds=1 if quick else 2)
    rows: list[Row] = [
        (f"cpu per text: {name} ms", _f(r["cpu_ms"][name], 2), "", "", "", "")
        for name in cpu_per_text.SERVICES
    ]
    rows += [
        (f"cpu per text: {name} ms (beside)", _f(r["cpu_ms"][name], 2), "", "", "", "")
        for name in ("postgres", "kafka")
    ]
    total = r["services_total_ms"]
    base = cpu_per_text.BASELINE_TOTAL_MS
    rows.append(
        ("cpu per text: 4 services ms", _f(total, 2), _f(base), "issue 17", _ratio(total, base), "<= 0.50")
    )
    return rows


def throughput(quick: bool) -> list[Row]:
    r = ingest_throughput.run(count=1000 if quick else 3000)
    return [
        (
            "ingest accepted webhooks/s (Python client, C=32)",
            _f(r["accepted_per_s"]),
            _f(r["kafka"]["records_per_s"], 0),
            "Kafka ProducerPerformance, same run",
            f"{r['ratio']:.4f}",
            "",
        ),
    ]


def e2e(quick: bool) -> list[Row]:
    r = e2e_latency.run(rate=100, seconds=20 if quick else 60)
    return [
        (f"e2e webhook -> SSE p50 ms ({r['rate']:g}/s)", _f(r["p50_ms"]), "", "", "", ""),
        (
            "e2e webhook -> SSE p99 ms",
            _f(r["p99_ms"]),
            "500",
            "target (issue 17)",
            _ratio(r["p99_ms"], 500),
            "< 1.00",
        ),
        (
            "e2e p50 ms, last 10 % (keeping up?)",
            _f(r["last_tenth_p50_ms"]),
            _f(r["first_tenth_p50_ms"]),
            "first 10 %, same run",
            _ratio(r["last_tenth_p50_ms"], r["first_tenth_p50_ms"]),
            "~1",
        ),
        (
            "e2e delivered / sent",
            f"{r['received']} / {r['sent']}",
            "",
            "",
            _ratio(r["received"], r["sent"]),
            "1.00",
        ),
    ]


def fanout(quick: bool) -> list[Row]:
    r = notifications_fanout.run(streams=200 if quick else 1000, rounds=3 if quick else 5)
    firsts = [x["first_ms"] for x in r["rounds"] if x["first_ms"] is not None]
    first = sorted(firsts)[len(firsts) // 2] if firsts else None
    return [
        (
            f"fan-out to 50 of {r['streams']} streams, last member ms",
            _f(r["last_member_p50_ms"]),
            _f(first),
            "first member, same run",
            _ratio(r["last_member_p50_ms"], first),
            "",
        ),
    ]


def outbound(quick: bool) -> list[Row]:
    r = outbound_throughput.run(count=100 if quick else 400)
    lifted = r["lifted"]
    return [
        (
            "outbound texts/s through the simulator",
            _f(lifted["per_second"]),
            "92.1",
            "2026-11-25",
            _ratio(lifted["per_second"], 92.1),
            "",
        ),
    ]


def sustained(quick: bool) -> list[Row]:
    rate, seconds = (150, 30) if quick else (600, 300)
    one, two = sustained_load.run(rate=rate, seconds=seconds, replicas=(1, 2), grace=30 if quick else 60)
    rows: list[Row] = []
    for r in (one, two):
        label = f"sustained {rate}/s x {seconds:g} s, {r['replicas']} replica(s)"
        rows += [
            (
                f"{label}: texts accepted/s",
                _f(r["accepted_per_s"]),
                _f(rate, 0),
                "asked",
                _ratio(r["accepted_per_s"], rate),
                ">= 1.00 (600/s)",
            ),
            (
                f"{label}: claim -> staff stream p99 ms",
                _f(r["p99_ms"]),
                "500",
                "target (issue 17)",
                _ratio(r["p99_ms"], 500),
                "< 1.00",
            ),
            (
                f"{label}: webhook p99 ms (wrk)",
                _f(r["webhook_p99_ms"]),
                "",
                "",
                "",
                "",
            ),
            (f"{label}: Kafka lag left", f"{r['kafka_lag_after']:,}", "0", "target", "", "0"),
        ]
    rows += [
        (
            "sustained: 2 replicas / 1, texts accepted/s",
            _f(two["accepted_per_s"]),
            _f(one["accepted_per_s"]),
            "1 replica, same run",
            f"{two['speedup']:.2f}",
            ">= 1.60 where cores allow",
        ),
        (
            "sustained: 2 replicas / 1, services' CPU ms per text",
            _f(sustained_load.services_cpu_ms(two), 2),
            _f(sustained_load.services_cpu_ms(one), 2),
            "1 replica, same run",
            f"{two['cpu_ratio']:.2f}",
            "~1 (scales by CPU)",
        ),
    ]
    return rows


def inbox(quick: bool) -> list[Row]:
    conversations = 20_000 if quick else 100_000
    results = inbox_list.run(conversations=conversations, repeat=10 if quick else 20)["results"]
    lists = [r for r in results if not r["case"].endswith("counts")]
    counts = [r for r in results if r["case"].endswith("counts")]
    worst = max(lists, key=lambda r: r["api_p95"])
    worst_counts = max(counts, key=lambda r: r["api_p95"])
    ratio = statistics.median(r["api_p50"] / max(r["sql_p50"], 0.01) for r in lists)
    return [
        (
            f"inbox list at {conversations:,} conversations: worst API p95 ms ({len(lists)} cases)",
            _f(worst["api_p95"]),
            "30",
            "target (issue 4)",
            _ratio(worst["api_p95"], 30),
            "< 1.00",
        ),
        (
            "inbox list: median API p50 / raw SQL p50",
            f"{ratio:.1f}",
            "1",
            "the SQL alone, same run",
            f"{ratio:.1f}",
            "",
        ),
        (
            "inbox counts: worst API p95 ms",
            _f(worst_counts["api_p95"]),
            "451.7",
            "before the counters (2026-12-05)",
            _ratio(worst_counts["api_p95"], 451.7),
            "",
        ),
    ]


def search(quick: bool) -> list[Row]:
    customers = 20_000 if quick else 100_000
    results = search_queries.run(customers=customers, repeat=20 if quick else 30)
    worst = max(results, key=lambda r: r["api_p95"])
    return [
        (
            f"search at {customers:,} customers: worst API p95 ms ({worst['case']})",
            _f(worst["api_p95"]),
            "25",
            "target (issue 7)",
            _ratio(worst["api_p95"], 25),
            "< 1.00",
        ),
        (
            "search: median API p50 / hand-written SQL p50",
            f"{statistics.median(r['api_p50'] / max(r['sql_p50'], 0.01) for r in results):.1f}",
            "1",
            "the SQL alone, same run",
            "",
            "",
        ),
    ]


def indexing(quick: bool) -> list[Row]:
    r = search_lag.run(rate=500, seconds=10 if quick else 20)
    return [
        (
            f"search indexing lag p99 ms at {r['rate']}/s",
            _f(r["p99_ms"]),
            "947",
            "2026-12-02, before the status index",
            _ratio(r["p99_ms"], 947),
            "",
        ),
        (
            "search indexing lag p50 ms, last 10 % (keeping up?)",
            _f(r["last_tenth_p50_ms"]),
            _f(r["first_tenth_p50_ms"]),
            "first 10 %, same run",
            _ratio(r["last_tenth_p50_ms"], r["first_tenth_p50_ms"]),
            "<= ~1",
        ),
        ("search events applied / published", f"{r['applied']} / {r['sent']}", "", "", "", "1.00"),
    ]


# 2026-12-02's figures (bench/README.md): seconds and peak RSS per size.
EXPORT_BEFORE = {100: (0.29, 101), 1000: (2.34, 121), 10000: (24.23, 140)}


def pdf(quick: bool) -> list[Row]:
    rows: list[Row] = []
    for r in export.run((100, 1000) if quick else (100, 1000, 10000)):
        seconds, rss = EXPORT_BEFORE[r["messages"]]
        rows += [
            (
                f"export {r['messages']:,} messages to PDF, seconds",
                _f(r["seconds"], 2),
                _f(seconds, 2),
                "2026-12-02",
                _ratio(r["seconds"], seconds),
                "",
            ),
            (
                f"export {r['messages']:,} messages, peak RSS MB",
                _f(r["peak_rss_mb"], 0),
                _f(rss, 0),
                "2026-12-02",
                _ratio(r["peak_rss_mb"], rss),
                "bounded",
            ),
        ]
    return rows


def live(quick: bool) -> list[Row]:
    r = web_live_latency.run(rate=50, seconds=20 if quick else 40, grace=15)
    return [
        (
            "web: webhook -> row in an open page p99 ms (50/s)",
            _f(r["p99"]),
            "1000",
            "target (issue 13)",
            _ratio(r["p99"], 1000),
            "< 1.00",
        ),
        ("web: rows seen / texts sent", f"{r['seen']} / {r['sent']}", "", "", "", "1.00"),
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
    "search": search,
    "indexing": indexing,
    "export": pdf,
    "live": live,
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
    print_table(rows, started, (load_before, os.getloadavg()[0]))


if __name__ == "__main__":
    main()
