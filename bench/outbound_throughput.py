"""Outbound texts per second: notifier (a real process) takes `sms.outbound_requested.v1` from
Kafka and sends each text to the carrier simulator (a real process, status callbacks off). Two runs:

- rate limits lifted: how fast the path goes (Kafka → notifier → carrier API → status on Kafka);
- rate limits on (long codes 1/s, a toll-free number 3/s): the fastest each number was ever seen
  at the carrier, from the simulator's own receive timestamps — it must never exceed its limit.

    .venv/bin/python bench/outbound_throughput.py [-n 400] [--numbers 20] [--per-number 6]
"""

import argparse
import asyncio
import bisect
import itertools
import json
import subprocess
import sys
import time
import uuid
from collections import defaultdict

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from environment import KAFKA_BOOTSTRAP, ROOT, bench_environment

from devtools import demo
from shared.contracts.messaging import OutboundRequested
from shared.testing.ports import free_port

FINAL = {"sent", "failed"}
TOLL_FREE = "+18885550142"


def long_code(index: int) -> str:
    return f"+1514{200 + index:03d}{index:04d}"


class Simulator:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Simulator":
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "devtools.carrier_simulator",
                "serve",
                "--port",
                str(self.port),
                "--no-callbacks",
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/simulate/sent", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise TimeoutError("carrier simulator did not start")

    def __exit__(self, *_exc) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(10)

    def received(self) -> list[dict]:
        return httpx.get(f"{self.url}/simulate/sent", timeout=30).json()


def requests_for(numbers: list[str], per_number: int) -> list[OutboundRequested]:
    """Round robin over the sending numbers, half Twilio and half Telnyx, every text to a new customer."""
    built = []
    for round_ in range(per_number):
        for index, number in enumerate(numbers):
            built.append(
                OutboundRequested(
                    account_id=demo.ACCOUNT_ID,
                    message_id=uuid.uuid4(),
                    conversation_id=uuid.uuid4(),
                    customer_id=uuid.uuid4(),
                    carrier="twilio" if (round_ + index) % 2 == 0 else "telnyx",
                    from_number=number,
                    to_number=f"+1438{300 + round_ % 600:03d}{(index * 37 + round_) % 9000 + 1000:04d}",
                    body=f"bench text {round_}/{index}",
                    source_kind="manual",
                )
            )
    return built


async def publish_and_wait(prefix: str, requests: list[OutboundRequested], timeout: float) -> dict:
    wanted = {str(r.message_id) for r in requests}
    done: dict[str, tuple[str, float]] = {}
    consumer = AIOKafkaConsumer(
        # The topics are new to this run (a prefix of its own): everything on them is ours.
        f"{prefix}sms.outbound_status.v1",
        bootstrap_servers=KAFKA_BOOTSTRAP,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA_BOOTSTRAP, acks="all", linger_ms=5)
    await producer.start()
    try:
        started = time.perf_counter()
        for request in requests:
            await producer.send(
                f"{prefix}sms.outbound_requested.v1", request.to_bytes(), key=request.partition_key.encode()
            )
        await producer.flush()
        published = time.perf_counter()
        deadline = started + timeout
        while len(done) < len(wanted) and time.perf_counter() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    event = json.loads(record.value)
                    if event["message_id"] in wanted and event["status"] in FINAL:
                        done.setdefault(event["message_id"], (event["status"], time.perf_counter()))
        finished = max((at for _, at in done.values()), default=time.perf_counter())
    finally:
        await producer.stop()
        await consumer.stop()
    statuses: dict[str, int] = defaultdict(int)
    for status, _ in done.values():
        statuses[status] += 1
    return {
        "requested": len(requests),
        "finished": len(done),
        "statuses": dict(statuses),
        "publish_seconds": published - started,
        "seconds": finished - started,
        "per_second": len(done) / (finished - started) if done else 0.0,
    }


def spacing(received: list[dict], limits: dict[str, float]) -> dict[str, dict]:
    """Per sending number: requests the carrier saw, the smallest gap, the most in any 1 s window."""
    by_number: dict[str, list[float]] = defaultdict(list)
    for record in received:
        by_number[record["from_number"]].append(record["received_at"])
    figures = {}
    for number, times in by_number.items():
        times.sort()
        gaps = [b - a for a, b in itertools.pairwise(times)]
        window = max(bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times))
        figures[number] = {
            "limit_per_s": limits.get(number),
            "texts": len(times),
            "min_gap_s": min(gaps) if gaps else None,
            "max_rate_per_s": 1 / min(gaps) if gaps and min(gaps) > 0 else None,
            "max_in_any_1s": window,
        }
    return figures


def run_case(requests: list[OutboundRequested], limits_on: bool, timeout: float) -> dict:
    with Simulator() as simulator:
        env = {
            "TWILIO_API_BASE_URL": simulator.url,
            "TELNYX_API_BASE_URL": simulator.url,
            "OUTBOUND_RATE_LIMITS_ENABLED": "true" if limits_on else "false",
            "KAFKA_PARTITIONS": "4",
        }
        with bench_environment(["notifier"], extra_env=env) as environment:
            result = asyncio.run(publish_and_wait(environment.topic_prefix, requests, timeout))
        result["received_by_carrier"] = len(simulator.received())
        result["spacing"] = spacing(
            simulator.received(),
            {n: 3.0 if n == TOLL_FREE else 1.0 for n in {r.from_number for r in requests}},
        )
    return result


def run(count: int = 400, numbers: int = 20, per_number: int = 6, limited_numbers: int = 4) -> dict:
    lifted = run_case(
        requests_for([long_code(i) for i in range(numbers)], max(1, count // numbers)), False, 300
    )
    limited_requests = requests_for(
        [long_code(i) for i in range(limited_numbers)], per_number
    ) + requests_for([TOLL_FREE], per_number * 2)
    limited = run_case(limited_requests, True, 300)
    return {"lifted": lifted, "limited": limited}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=400, help="texts in the run without limits")
    parser.add_argument("--numbers", type=int, default=20, help="sending numbers in the run without limits")
    parser.add_argument("--per-number", type=int, default=6, help="texts per long code with limits on")
    parser.add_argument("--limited-numbers", type=int, default=4, help="long codes with limits on")
    args = parser.parse_args()
    figures = run(args.n, args.numbers, args.per_number, args.limited_numbers)
    lifted, limited = figures["lifted"], figures["limited"]
    print("\nRate limits lifted")
    print(f"  texts {lifted['finished']}/{lifted['requested']} {lifted['statuses']}")
    print(f"  {lifted['per_second']:.1f} texts/s end to end ({lifted['seconds']:.2f} s)")
    print("\nRate limits on (long code 1/s, toll-free 3/s)")
    print(f"  texts {limited['finished']}/{limited['requested']} {limited['statuses']}")
    print(f"  {limited['per_second']:.1f} texts/s end to end ({limited['seconds']:.2f} s)")
    exceeded = False
    for number, row in sorted(limited["spacing"].items()):
        gap = f"{row['min_gap_s']:.3f}" if row["min_gap_s"] is not None else "-"
        rate = f"{row['max_rate_per_s']:.2f}" if row["max_rate_per_s"] is not None else "-"
        print(
            f"  {number}: limit {row['limit_per_s']}/s, {row['texts']} texts, min gap {gap} s, "
            f"max rate {rate}/s, max in any 1 s {row['max_in_any_1s']}"
        )
        if row["max_rate_per_s"] and row["max_rate_per_s"] > row["limit_per_s"]:
            exceeded = True
    print("  no number exceeded its limit" if not exceeded else "  A NUMBER EXCEEDED ITS LIMIT")


if __name__ == "__main__":
    main()
