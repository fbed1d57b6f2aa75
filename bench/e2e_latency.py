"""End-to-end latency: Twilio webhook POST at ingest -> Kafka -> routing (new unassigned conversation,
outbox) -> Kafka -> notifier -> the SSE event at the demo admin's connected stream, at a steady rate.

    .venv/bin/python bench/e2e_latency.py [--rate 100] [--seconds 60] [--grace 30]
"""

import argparse
import asyncio
import contextlib
import json
import os
import re
import secrets
import time
from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

import httpx
from environment import (
    CpuMeter,
    bench_environment,
    latency_summary,
    percentile,
    pids_matching,
    print_cpu_per_process,
    sse_events,
)
from sqlalchemy.engine import make_url

from devtools import demo
from devtools.carrier_simulator.twilio import inbound_sms_form, sign

TOKEN = re.compile(r"\[bench:([0-9a-f]+):(\d+)\]")
REQUEST_TIMEOUT = 15.0
# Keep-alive connections to ingest: at 100/s and tens of ms each, a handful are busy at once.
CONNECTIONS = 32


class LatencyStream:
    """Reads the notifier's SSE stream, noting when each tagged message's event arrives."""

    def __init__(self, url: str, token: str, run_tag: str) -> None:
        self.url = url
        self.token = token
        self.run_tag = run_tag
        self.arrivals: dict[int, float] = {}
        self.other_events = 0
        self.ready = asyncio.Event()
        self.changed = asyncio.Event()

    async def read(self) -> None:
        async for fields in sse_events(self.url, self.token):
            if "data" in fields:
                self._on_event(fields)

    def _on_event(self, fields: dict[str, str]) -> None:
        now = time.perf_counter()
        if fields.get("event") == "ready":
            self.ready.set()
            return
        body = json.loads(fields["data"]).get("body") or ""
        match = TOKEN.search(body)
        if match and match.group(1) == self.run_tag:
            self.arrivals.setdefault(int(match.group(2)), now)
            self.changed.set()
        else:
            self.other_events += 1


class RawPoster:
    """Posts pre-built HTTP/1.1 requests over a fixed set of keep-alive connections, first come
    first served. The benchmark's client shares the two cores with what it measures, so it must
    be cheap: httpx spent ~10 ms of CPU per webhook here (more as requests queued in its pool),
    this spends a fraction of a millisecond."""

    def __init__(self, url: str, connections: int) -> None:
        parsed = urlsplit(url)
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or 80
        self.connections = connections
        self._idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter] | None] = asyncio.Queue()

    async def open(self) -> None:
        for _ in range(self.connections):
            self._idle.put_nowait(None)  # opened on first use

    async def close(self) -> None:
        while not self._idle.empty():
            connection = self._idle.get_nowait()
            if connection:
                connection[1].close()

    async def post(self, request: bytes) -> int:
        """The response's status code; raises on a broken connection or after REQUEST_TIMEOUT."""
        connection = await self._idle.get()
        try:
            if connection is None:
                connection = await asyncio.open_connection(self.host, self.port)
            status = await asyncio.wait_for(self._exchange(*connection, request), REQUEST_TIMEOUT)
        except BaseException:
            if connection:
                connection[1].close()
            self._idle.put_nowait(None)
            raise
        self._idle.put_nowait(connection)
        return status

    @staticmethod
    async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
        writer.write(request)
        status = int((await reader.readuntil(b"\r\n")).split(b" ", 2)[1])
        length = 0
        while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await reader.readexactly(length)
        return status


def build_requests(ingest_url: str, count: int, run_tag: str) -> list[bytes]:
    """One webhook per message, each from a new customer number so each opens a new unassigned
    conversation (which notifies the admin), as complete signed HTTP requests. Index 0 is the
    warm-up message."""
    url = f"{ingest_url}/webhooks/twilio/sms"
    parsed = urlsplit(url)
    built = []
    for index in range(count):
        form = inbound_sms_form(
            demo.TWILIO_ACCOUNT_SID,
            f"+1438{index:07d}",
            demo.DEALERSHIP_NUMBER,
            f"Hi, is my car ready? [bench:{run_tag}:{index}]",
        )
        body = urlencode(form).encode()
        head = (
            f"POST {parsed.path} HTTP/1.1\r\nHost: {parsed.netloc}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"X-Twilio-Signature: {sign(demo.TWILIO_AUTH_TOKEN, url, form)}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        built.append(head.encode() + body)
    return built


async def measure(
    ingest: str,
    routing: str,
    notifier: str,
    rate: float,
    seconds: float,
    grace: float,
    cpu: CpuMeter | None = None,
) -> dict:
    run_tag = secrets.token_hex(4)
    total = max(1, int(rate * seconds))
    requests = build_requests(ingest, total + 1, run_tag)
    sent_at: dict[int, float] = {}
    statuses: dict[str, int] = {}
    post_ms: list[float] = []
    poster = RawPoster(ingest, CONNECTIONS)
    await poster.open()
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT) as client:
        login = await client.post(
            f"{routing}/api/v1/auth/login", json={"email": demo.ADMIN_EMAIL, "password": demo.PASSWORD}
        )
        login.raise_for_status()
        stream = LatencyStream(
            f"{notifier}/api/v1/notifications/stream", login.json()["access_token"], run_tag
        )
        reader = asyncio.create_task(stream.read())
        try:
            await asyncio.wait_for(stream.ready.wait(), 10)

            async def send(index: int) -> None:
                sent_at[index] = time.perf_counter()
                try:
                    key = str(await poster.post(requests[index]))
                except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
                    key = type(exc).__name__
                if index:
                    statuses[key] = statuses.get(key, 0) + 1
                    post_ms.append((time.perf_counter() - sent_at[index]) * 1000)

            # Warm-up: one message all the way through, so consumer-group joins are not measured.
            await send(0)
            warm_deadline = time.perf_counter() + 60
            while 0 not in stream.arrivals and time.perf_counter() < warm_deadline:
                stream.changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stream.changed.wait(), 1)
            if 0 not in stream.arrivals:
                raise RuntimeError("warm-up message never reached the SSE stream within 60 s")
            warmup_ms = (stream.arrivals[0] - sent_at[0]) * 1000
            print(f"[e2e] warm-up message arrived after {warmup_ms:.0f} ms; sending {total} at {rate}/s")

            tasks = []
            if cpu:
                cpu.start()
            start = time.perf_counter()
            behind_max = 0.0
            for index in range(1, total + 1):
                due = start + (index - 1) / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                else:
                    behind_max = max(behind_max, -delay)
                tasks.append(asyncio.create_task(send(index)))
            await asyncio.gather(*tasks)
            send_seconds = time.perf_counter() - start

            wanted = set(range(1, total + 1))
            deadline = time.perf_counter() + grace
            while not wanted <= stream.arrivals.keys() and time.perf_counter() < deadline:
                stream.changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stream.changed.wait(), 0.5)
            run_seconds = time.perf_counter() - start
            cpu_used = cpu.stop() if cpu else {}
        finally:
            await poster.close()
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
            if reader.done() and not reader.cancelled() and reader.exception():
                print(f"[e2e] SSE reader failed: {reader.exception()!r}")

    order = sorted(i for i in wanted if i in stream.arrivals)
    latencies = [(stream.arrivals[i] - sent_at[i]) * 1000 for i in order]
    missing = sorted(wanted - stream.arrivals.keys())
    span = (max(stream.arrivals[i] for i in order) - start) if order else 0.0
    return {
        "rate": rate,
        "seconds": seconds,
        "sent": total,
        "statuses": statuses,
        "send_seconds": send_seconds,
        "schedule_behind_max_ms": behind_max * 1000,
        "received": len(latencies),
        "missing": missing,
        "other_events": stream.other_events,
        "warmup_ms": warmup_ms,
        **latency_summary(latencies),
        "delivered_per_s": len(order) / span if span else 0.0,
        "post_p50_ms": percentile(post_ms, 50) if post_ms else None,
        "post_p99_ms": percentile(post_ms, 99) if post_ms else None,
        "run_seconds": run_seconds,
        "cpu_seconds": cpu_used,
    }


def run(rate: float = 100, seconds: float = 60, grace: float = 30) -> dict:
    if rate <= 0 or seconds <= 0 or rate * seconds > 20_000:
        raise SystemExit("need rate > 0, seconds > 0 and rate x seconds <= 20000")
    names = ["ingest", "routing", "notifier"]
    with bench_environment(names) as environment:
        database = make_url(environment.database_url).database
        groups = {name: _fixed(environment.services[name].process.pid) for name in names}
        groups["bench client"] = _fixed(os.getpid())
        groups["postgres (run db)"] = lambda: pids_matching(f" {database} ")
        groups["kafka broker"] = lambda: pids_matching("kafka.Kafka")
        cpu = CpuMeter(groups)
        result = asyncio.run(
            measure(
                environment.url("ingest"),
                environment.url("routing"),
                environment.url("notifier"),
                rate,
                seconds,
                grace,
                cpu,
            )
        )
    report(result)
    return result


def _fixed(pid: int) -> Callable[[], list[int]]:
    return lambda: [pid]


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} ms"


def report(result: dict) -> None:
    print()
    print("== end-to-end latency: POST at ingest -> SSE event at notifier (ingest, routing, notifier) ==")
    print(
        f"  schedule            {result['rate']}/s for {result['seconds']} s (sending took "
        f"{result['send_seconds']:.1f} s, at most {result['schedule_behind_max_ms']:.0f} ms behind)"
    )
    print(f"  sent                {result['sent']}  responses {result['statuses']}")
    print(
        f"  received            {result['received']}  missing {len(result['missing'])}"
        + (f" (first: {result['missing'][:10]})" if result["missing"] else "")
    )
    print(
        f"  p50 / p95 / p99     {_ms(result['p50_ms'])} / {_ms(result['p95_ms'])} / {_ms(result['p99_ms'])}"
    )
    print(f"  max                 {_ms(result['max_ms'])}")
    print(
        f"  p50 first / last 10% of messages  {_ms(result['first_tenth_p50_ms'])} / "
        f"{_ms(result['last_tenth_p50_ms'])}  (growing = the pipeline is not keeping up with the rate)"
    )
    print(f"  delivered to SSE    {result['delivered_per_s']:.1f}/s (first send to last arrival)")
    print(f"  POST at ingest      p50 {_ms(result['post_p50_ms'])}, p99 {_ms(result['post_p99_ms'])}")
    print(f"  warm-up (excluded)  {result['warmup_ms']:.0f} ms")
    used = result["cpu_seconds"]
    if used:
        print(f"  run                 {result['run_seconds']:.1f} s wall")
        print_cpu_per_process(used, result["sent"], "message")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=100, help="webhooks per second")
    parser.add_argument("--seconds", type=float, default=60, help="how long to send for")
    parser.add_argument("--grace", type=float, default=30, help="seconds to wait for stragglers")
    args = parser.parse_args()
    run(args.rate, args.seconds, args.grace)


if __name__ == "__main__":
    main()
