"""Webhooks accepted per second by ingest: each one signature-checked, deduplicated and acknowledged
by Kafka before the 200. Compared with Kafka's own ProducerPerformance tool on the same broker.

    .venv/bin/python bench/ingest_throughput.py [-n 3000] [-c 32] [--kafka-records 200000]
"""

import argparse
import asyncio
import re
import subprocess
import time
from urllib.parse import urlencode

import httpx
from environment import KAFKA_BOOTSTRAP, ROOT, bench_environment, create_topic, percentile

from devtools import demo
from devtools.carrier_simulator.twilio import inbound_sms_form, sign

WARMUP = 50
REQUEST_TIMEOUT = 30.0
KAFKA_PERF_TIMEOUT = 300.0


def build_requests(ingest_url: str, count: int, tag: str) -> list[tuple[bytes, str]]:
    """`count` distinct signed inbound webhooks, as (encoded body, signature), built before timing."""
    url = f"{ingest_url}/webhooks/twilio/sms"
    built = []
    for index in range(count):
        form = inbound_sms_form(
            demo.TWILIO_ACCOUNT_SID,
            f"+1438{index % 10_000_000:07d}",
            demo.DEALERSHIP_NUMBER,
            f"bench {tag} {index}: is my car ready?",
        )
        built.append((urlencode(form).encode(), sign(demo.TWILIO_AUTH_TOKEN, url, form)))
    return built


async def post_all(
    ingest_url: str, requests: list[tuple[bytes, str]], concurrency: int, max_seconds: float
) -> dict:
    url = f"{ingest_url}/webhooks/twilio/sms"
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    queue: asyncio.Queue[tuple[bytes, str]] = asyncio.Queue()
    for item in requests:
        queue.put_nowait(item)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT, limits=limits) as client:
        deadline = time.perf_counter() + max_seconds

        async def worker() -> None:
            while time.perf_counter() < deadline:
                try:
                    body, signature = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                headers = {
                    "content-type": "application/x-www-form-urlencoded",
                    "x-twilio-signature": signature,
                }
                started = time.perf_counter()
                try:
                    response = await client.post(url, content=body, headers=headers)
                    outcome = response.headers.get("x-switchboard-outcome")
                    key = f"{response.status_code} {outcome}" if outcome else str(response.status_code)
                except httpx.HTTPError as exc:
                    key = type(exc).__name__
                elapsed = time.perf_counter() - started
                statuses[key] = statuses.get(key, 0) + 1
                if key.startswith("200"):
                    latencies.append(elapsed)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    return {"wall_s": wall, "latencies": latencies, "statuses": statuses, "unsent": queue.qsize()}


def kafka_producer_perf(topic: str, records: int) -> dict:
    command = [
        "bash",
        str(ROOT / "infra/kafka.sh"),
        "run-class",
        "org.apache.kafka.tools.ProducerPerformance",
        "--topic",
        topic,
        "--num-records",
        str(records),
        "--record-size",
        "512",
        "--throughput",
        "-1",
        "--producer-props",
        f"bootstrap.servers={KAFKA_BOOTSTRAP}",
        "acks=all",
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=KAFKA_PERF_TIMEOUT, check=False, cwd=ROOT
    )
    lines = [line for line in result.stdout.splitlines() if "records sent" in line]
    if result.returncode != 0 or not lines:
        raise RuntimeError(f"ProducerPerformance failed ({result.returncode}): {result.stderr[-2000:]}")
    final = lines[-1]
    match = re.search(r"([\d.]+) records/sec \(([\d.]+) MB/sec\), ([\d.]+) ms avg latency", final)
    if not match:
        raise RuntimeError(f"cannot parse ProducerPerformance output: {final}")
    p50 = re.search(r"(\d+) ms 50th", final)
    p99 = re.search(r"(\d+) ms 99th", final)
    return {
        "records_per_s": float(match.group(1)),
        "mb_per_s": float(match.group(2)),
        "avg_ms": float(match.group(3)),
        "p50_ms": float(p50.group(1)) if p50 else None,
        "p99_ms": float(p99.group(1)) if p99 else None,
        "line": final,
    }


def run(
    count: int = 3000, concurrency: int = 32, kafka_records: int = 200_000, max_seconds: float = 300
) -> dict:
    with bench_environment(["ingest"]) as environment:
        ingest = environment.url("ingest")
        print(f"[ingest] building {count + WARMUP} signed webhooks", flush=True)
        warmup = build_requests(ingest, WARMUP, "warmup")
        measured = build_requests(ingest, count, "measured")
        asyncio.run(post_all(ingest, warmup, min(concurrency, 8), 60))
        print(f"[ingest] posting {count} webhooks at concurrency {concurrency}", flush=True)
        outcome = asyncio.run(post_all(ingest, measured, concurrency, max_seconds))
        topic = f"{environment.topic_prefix}bench.producer-perf"
        asyncio.run(create_topic(environment.kafka_bootstrap, topic, partitions=2))
        print(
            f"[kafka] ProducerPerformance: {kafka_records} x 512 B records, acks=all, to {topic}", flush=True
        )
        kafka = kafka_producer_perf(topic, kafka_records)

    latencies = outcome["latencies"]
    accepted = len(latencies)
    result = {
        "requests": count,
        "concurrency": concurrency,
        "accepted": accepted,
        "statuses": outcome["statuses"],
        "unsent": outcome["unsent"],
        "wall_s": outcome["wall_s"],
        "accepted_per_s": accepted / outcome["wall_s"] if outcome["wall_s"] else 0.0,
        "p50_ms": percentile(latencies, 50) * 1000 if latencies else None,
        "p99_ms": percentile(latencies, 99) * 1000 if latencies else None,
        "kafka": kafka,
    }
    result["ratio"] = result["accepted_per_s"] / kafka["records_per_s"]
    report(result)
    return result


def report(result: dict) -> None:
    kafka = result["kafka"]
    print()
    print("== ingest throughput (only `ingest` running; the client runs on the same 2-core host) ==")
    print(
        f"  requests            {result['requests']} distinct signed Twilio webhooks, concurrency "
        f"{result['concurrency']}"
    )
    print(f"  responses           {result['statuses']}  (not sent before time limit: {result['unsent']})")
    print(f"  accepted (200)      {result['accepted']} in {result['wall_s']:.2f} s")
    print(f"  accepted/s          {result['accepted_per_s']:.1f}")
    print(f"  latency p50 / p99   {result['p50_ms']:.1f} ms / {result['p99_ms']:.1f} ms")
    print("== Kafka baseline: org.apache.kafka.tools.ProducerPerformance, 512 B, acks=all ==")
    print(f"  {kafka['line'].strip()}")
    print(f"  records/s           {kafka['records_per_s']:.1f} ({kafka['mb_per_s']:.2f} MB/s)")
    print(f"  ratio ingest webhooks/s / kafka records/s = {result['ratio']:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", "--requests", type=int, default=3000, help="distinct webhooks to post")
    parser.add_argument("-c", "--concurrency", type=int, default=32, help="requests in flight")
    parser.add_argument("--kafka-records", type=int, default=200_000, help="ProducerPerformance records")
    parser.add_argument("--max-seconds", type=float, default=300, help="stop posting after this long")
    args = parser.parse_args()
    run(args.requests, args.concurrency, args.kafka_records, args.max_seconds)


if __name__ == "__main__":
    main()
