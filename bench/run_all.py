"""Runs every benchmark with its defaults (each in its own isolated environment) and prints a summary.

.venv/bin/python bench/run_all.py      # or: make bench
"""

import datetime
import os

import e2e_latency
import ingest_throughput


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def main() -> None:
    ingest = ingest_throughput.run()
    e2e = e2e_latency.run()
    kafka = ingest["kafka"]
    rows = [
        ("ingest accepted webhooks/s (only ingest, C=32)", f"{ingest['accepted_per_s']:.1f}"),
        ("ingest accepted / posted", f"{ingest['accepted']} / {ingest['requests']}"),
        ("ingest latency p50 / p99 ms", f"{_ms(ingest['p50_ms'])} / {_ms(ingest['p99_ms'])}"),
        ("kafka ProducerPerformance records/s (512 B, acks=all)", f"{kafka['records_per_s']:.1f}"),
        ("ratio ingest webhooks/s / kafka records/s", f"{ingest['ratio']:.4f}"),
        (
            f"e2e sent / received ({e2e['rate']:g}/s for {e2e['seconds']:g} s)",
            f"{e2e['sent']} / {e2e['received']}",
        ),
        ("e2e missing after the grace", str(len(e2e["missing"]))),
        ("e2e delivered to SSE per s", f"{e2e['delivered_per_s']:.1f}"),
        (
            "e2e latency p50 first / last 10% ms",
            f"{_ms(e2e['first_tenth_p50_ms'])} / {_ms(e2e['last_tenth_p50_ms'])}",
        ),
        (
            "e2e latency p50 / p95 / p99 / max ms",
            f"{_ms(e2e['p50_ms'])} / {_ms(e2e['p95_ms'])} / {_ms(e2e['p99_ms'])} / {_ms(e2e['max_ms'])}",
        ),
    ]
    width = max(len(name) for name, _ in rows)
    print()
    print(f"== Switchboard benchmarks, {datetime.date.today()}, {os.cpu_count()} CPUs ==")
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")


if __name__ == "__main__":
    main()
