"""Webhook to the row in an open browser page: a signed Twilio webhook POST at ingest -> Kafka ->
routing (a new unassigned conversation) -> Kafka -> notifier's live feed -> web's /live relay ->
the page's `inbox` event -> static/live.js's coalesced list refresh (50 ms, one request at a
time) -> web renders the list (asking routing) -> htmx swaps it in -> the row is in #rows.

ingest, routing, notifier and web run as real processes (environment.bench_environment: fresh
database with the demo dealership, unique topic prefix). Debian's Chromium, driven by
Playwright's async API, signs in as the demo admin through the sign-in form and opens
/conversations?view=all&status=open; a MutationObserver in the page notes, on the page's clock
(performance.timeOrigin + performance.now(), i.e. epoch ms), when a row whose .row-name is each
customer's number is first in #rows. Webhooks go out at a steady rate (50/s for 40 s by
default), each from a new customer number, over keep-alive connections (e2e_latency.RawPoster);
each POST's start is noted with time.time(). Latency = row first seen - POST start (same machine
clock; the offset between the two clocks is measured and printed).

The list shows its first page (50 rows, newest first). At 50 texts/s, a row can be pushed off
the first page by newer ones before a refresh shows it; such a row never appears and is counted
as missing. Each missing row is explained from routing's database (when its conversation was
created, same clock, and its last_activity_at, the list's order, which is when ingest received
the text): not created by the end (the pipeline was behind), or never among the first 50 at
any refresh after it was created (newer texts already filled the page). Also printed: the two
legs, POST -> conversation created in routing and created -> row in the page.

Goal: p99 < 1 s at 50 texts/s. The baseline in the same run is the warm-up text (one webhook to
the row on an idle system).

.venv/bin/python bench/web_live_latency.py [--rate 50] [--seconds 40] [--grace 15]
"""

import argparse
import asyncio
import bisect
import contextlib
import itertools
import os
import secrets
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
from e2e_latency import CONNECTIONS, RawPoster, build_requests
from environment import CpuMeter, bench_environment, dsn, percentile, pids_matching, print_cpu_per_process
from playwright.async_api import async_playwright
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url

from devtools import demo
from shared.testing.chromium import CHROMIUM, CHROMIUM_ARGS

PAGE = "/conversations?view=all&status=open"
FIRST_PAGE = 50

# Every row name first seen in #rows, and each time #rows was replaced (a list refresh).
OBSERVER = """() => {
  const now = () => performance.timeOrigin + performance.now();
  window.__seen = {};
  window.__swaps = [];
  let rows = null;
  const record = () => {
    const current = document.getElementById("rows");
    if (!current) return;
    const t = now();
    if (current !== rows) { rows = current; window.__swaps.push(t); }
    for (const name of current.querySelectorAll(".row-name")) {
      const key = name.textContent.replace(/[^0-9]/g, "");
      if (key && !(key in window.__seen)) window.__seen[key] = t;
    }
  };
  new MutationObserver(record).observe(document.body, { childList: true, subtree: true });
  record();
}"""


def number_of(index: int) -> str:
    """The customer number e2e_latency.build_requests uses for message `index`, digits only."""
    return f"1438{index:07d}"


def descendants(root: int, excluded: set[int]) -> list[int]:
    """Processes below `root` (Playwright's driver, Chromium and its helpers), minus `excluded`
    subtrees (the services, which this process also started)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rpartition(")")[2].split()[1])
    found, frontier = [], [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in excluded:
                found.append(pid)
                frontier.append(pid)
    return found


def web_page_timings(web: str) -> tuple[int, float]:
    """(GET /conversations requests, their summed seconds) inside web so far."""
    count = total = 0.0
    for family in text_string_to_metric_families(httpx.get(f"{web}/metrics", timeout=10).text):
        if family.name == "http_request_duration_seconds":
            for sample in family.samples:
                if sample.labels.get("route") == "/conversations" and sample.labels.get("method") == "GET":
                    if sample.name.endswith("_count"):
                        count += sample.value
                    elif sample.name.endswith("_sum"):
                        total += sample.value
    return int(count), total


async def clock_offset_ms(page) -> tuple[float, float]:
    """(page clock - time.time(), uncertainty), best of 5, in ms."""
    best = None
    for _ in range(5):
        before = time.time() * 1000
        browser = await page.evaluate("() => performance.timeOrigin + performance.now()")
        after = time.time() * 1000
        candidate = (browser - (before + after) / 2, (after - before) / 2)
        if best is None or candidate[1] < best[1]:
            best = candidate
    return best


async def created_in_routing(database_url: str) -> dict[str, tuple[float, float]]:
    """{customer number digits: (epoch ms its conversation was created in routing, its
    last_activity_at in epoch ms)}: the database's clock (a transaction's start), the same
    machine clock as time.time(). The list is ordered by last_activity_at, which is when ingest
    received the text, not when routing stored it."""
    connection = await asyncpg.connect(dsn(database_url))
    try:
        rows = await connection.fetch(
            "SELECT p.e164, extract(epoch FROM min(c.created_at)) * 1000 AS at, "
            "extract(epoch FROM max(c.last_activity_at)) * 1000 AS activity "
            "FROM routing.conversations c JOIN routing.customer_phones p ON p.customer_id = c.customer_id "
            "WHERE p.e164 LIKE '+1438%' GROUP BY p.e164"
        )
    finally:
        await connection.close()
    return {row["e164"].lstrip("+"): (float(row["at"]), float(row["activity"])) for row in rows}


async def measure(
    urls: dict[str, str], database_url: str, rate: float, seconds: float, grace: float, cpu: CpuMeter
) -> dict:
    total = max(1, int(rate * seconds))
    requests = build_requests(urls["ingest"], total + 1, secrets.token_hex(4))
    sent_at: dict[int, float] = {}  # time.time() in ms at each POST's start
    post_ms: list[float] = []
    statuses: dict[str, int] = {}
    poster = RawPoster(urls["ingest"], CONNECTIONS)
    await poster.open()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(base_url=urls["web"], viewport={"width": 1280, "height": 800})
            page = await context.new_page()
            problems: list[str] = []
            page.on("pageerror", lambda error: problems.append(str(error)))
            await page.goto(PAGE)
            await page.get_by_label("E-mail", exact=True).fill(demo.ADMIN_EMAIL)
            await page.get_by_label("Password", exact=True).fill(demo.PASSWORD)
            await page.get_by_role("button", name="Sign in").click()
            await page.wait_for_url("**/conversations?*")
            await page.wait_for_selector("#rows")
            await page.evaluate(OBSERVER)
            offset, uncertainty = await clock_offset_ms(page)

            async def send(index: int) -> None:
                started = time.perf_counter()
                sent_at[index] = time.time() * 1000
                try:
                    key = str(await poster.post(requests[index]))
                except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
                    key = type(exc).__name__
                if index:
                    statuses[key] = statuses.get(key, 0) + 1
                    post_ms.append((time.perf_counter() - started) * 1000)

            async def seen() -> dict[str, float]:
                return await page.evaluate("() => window.__seen")

            # Warm-up: one text all the way to the page (consumer groups joined, the stream open).
            await send(0)
            for _ in range(1200):  # 60 s
                if number_of(0) in (first := await seen()):
                    break
                await asyncio.sleep(0.05)
            if number_of(0) not in first:
                raise RuntimeError(f"the warm-up text never showed in the page within 60 s; {problems}")
            warmup_ms = first[number_of(0)] - sent_at[0]
            print(f"[live] warm-up text in the page after {warmup_ms:.0f} ms; sending {total} at {rate}/s")
            await asyncio.sleep(1)

            pages_before = web_page_timings(urls["web"])
            swaps_before = len(await page.evaluate("() => window.__swaps"))
            cpu.start()
            start = time.perf_counter()
            behind_max = 0.0
            tasks = []
            for index in range(1, total + 1):
                delay = start + (index - 1) / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                else:
                    behind_max = max(behind_max, -delay)
                tasks.append(asyncio.create_task(send(index)))
            await asyncio.gather(*tasks)
            send_seconds = time.perf_counter() - start
            wanted = {number_of(i): i for i in range(1, total + 1)}
            deadline = time.perf_counter() + grace
            while time.perf_counter() < deadline:
                if wanted.keys() <= (await seen()).keys():
                    break
                await asyncio.sleep(0.25)
            cpu_used = cpu.stop()
            arrivals = await seen()
            swaps = (await page.evaluate("() => window.__swaps"))[swaps_before:]
            pages_after = web_page_timings(urls["web"])
            stored = await created_in_routing(database_url)
        finally:
            await poster.close()
            await browser.close()

    latencies = {i: arrivals[n] - sent_at[i] for n, i in wanted.items() if n in arrivals}
    missing = sorted(i for n, i in wanted.items() if n not in arrivals)
    created = {n: at for n, (at, _) in stored.items()}
    to_routing = [created[n] - sent_at[i] for n, i in wanted.items() if n in created]
    routing_to_page = [arrivals[n] - created[n] for n in wanted if n in arrivals and n in created]
    # How many conversations routing created between two consecutive list refreshes, at most:
    # more than a page means some rows could never be shown.
    births = sorted(created[n] for n in wanted if n in created)
    between = [
        bisect.bisect_left(births, b) - bisect.bisect_left(births, a) for a, b in itertools.pairwise(swaps)
    ]
    gaps = [b - a for a, b in itertools.pairwise(swaps)]
    refreshes = pages_after[0] - pages_before[0]
    values = [latencies[i] for i in sorted(latencies)]
    tenth = max(1, len(values) // 10)
    return {
        "rate": rate,
        "seconds": seconds,
        "sent": total,
        "statuses": statuses,
        "send_seconds": send_seconds,
        "behind_max_ms": behind_max * 1000,
        "seen": len(values),
        "missing": missing,
        "p50": percentile(values, 50) if values else None,
        "p95": percentile(values, 95) if values else None,
        "p99": percentile(values, 99) if values else None,
        "max": max(values) if values else None,
        "first_tenth_p50": percentile(values[:tenth], 50) if values else None,
        "last_tenth_p50": percentile(values[-tenth:], 50) if values else None,
        "post_p50": percentile(post_ms, 50) if post_ms else None,
        "post_p99": percentile(post_ms, 99) if post_ms else None,
        "warmup_ms": warmup_ms,
        "clock_offset_ms": offset,
        "clock_uncertainty_ms": uncertainty,
        "swaps": len(swaps),
        "gap_p50": statistics.median(gaps) if gaps else None,
        "gap_max": max(gaps) if gaps else None,
        "most_between": max(between) if between else None,
        "refresh_requests": refreshes,
        "refresh_server_ms": (pages_after[1] - pages_before[1]) * 1000 / refreshes if refreshes else None,
        "missing_why": _why_missing(missing, wanted, stored, swaps),
        "to_routing_p50": percentile(to_routing, 50) if to_routing else None,
        "to_routing_p99": percentile(to_routing, 99) if to_routing else None,
        "routing_to_page_p50": percentile(routing_to_page, 50) if routing_to_page else None,
        "routing_to_page_p99": percentile(routing_to_page, 99) if routing_to_page else None,
        "cpu": cpu_used,
        "page_errors": problems,
    }


def _why_missing(
    missing: list[int], wanted: dict[str, int], stored: dict[str, tuple[float, float]], swaps: list[float]
) -> dict[str, int]:
    """Each row never seen: not stored in routing by the end (the pipeline was behind); or never
    among the first FIRST_PAGE rows (by last_activity_at) of the conversations stored before any
    refresh after it was stored (newer texts already filled the page: pushed off, or stored late
    behind newer ones from another partition); or neither (a refresh should have shown it).
    A refresh's snapshot is taken as its swap time, an upper bound."""
    shown_by_some_refresh: set[str] = set()
    by_creation = sorted(stored.items(), key=lambda item: item[1][0])
    for swap in swaps:
        existing = [(activity, n) for n, (at, activity) in by_creation if at <= swap]
        shown_by_some_refresh.update(n for _, n in sorted(existing, reverse=True)[:FIRST_PAGE])
    numbers = {i: n for n, i in wanted.items()}
    why = {"not in routing by the end": 0, f"never in the first {FIRST_PAGE} at a refresh": 0, "other": 0}
    for index in missing:
        number = numbers[index]
        if number not in stored:
            why["not in routing by the end"] += 1
        elif number not in shown_by_some_refresh:
            why[f"never in the first {FIRST_PAGE} at a refresh"] += 1
        else:
            why["other"] += 1
    return why


def _fixed(pid: int) -> Callable[[], list[int]]:
    return lambda: [pid]


def run(rate: float, seconds: float, grace: float) -> dict:
    if rate <= 0 or seconds <= 0 or rate * seconds > 10_000 or grace > 120:
        raise SystemExit("need rate > 0, seconds > 0, rate x seconds <= 10000, grace <= 120")
    names = ["ingest", "routing", "notifier", "web"]
    # The topics are new: the live feed reads them from their start (as tests/browser does).
    with bench_environment(names, {"LIVE_CONSUMER_OFFSET_RESET": "earliest"}) as environment:
        database = make_url(environment.database_url).database
        service_pids = {environment.services[n].process.pid for n in names}
        groups = {n: _fixed(environment.services[n].process.pid) for n in names}
        groups["chromium + driver"] = lambda: descendants(os.getpid(), service_pids)
        groups["bench client"] = _fixed(os.getpid())
        groups["postgres (run db)"] = lambda: pids_matching(f" {database} ")
        groups["kafka broker"] = lambda: pids_matching("kafka.Kafka")
        print(
            f"[run] {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs shared by everything; "
            f"load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        urls = {n: environment.url(n) for n in names}
        result = asyncio.run(measure(urls, environment.database_url, rate, seconds, grace, CpuMeter(groups)))
    report(result)
    return result


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} ms"


def report(r: dict) -> None:
    print()
    print("== webhook POST at ingest -> row in the open Conversations page (Chromium) ==")
    print(
        f"  schedule            {r['rate']:g}/s for {r['seconds']:g} s "
        f"(sending took {r['send_seconds']:.1f} s, "
        f"at most {r['behind_max_ms']:.0f} ms behind)"
    )
    print(f"  sent                {r['sent']}  responses {r['statuses']}")
    print(f"  seen in the page    {r['seen']}  missing {len(r['missing'])}")
    print(f"  p50 / p95 / p99     {_ms(r['p50'])} / {_ms(r['p95'])} / {_ms(r['p99'])}")
    print(f"  max                 {_ms(r['max'])}")
    print(
        f"  p50 first / last 10% of texts  {_ms(r['first_tenth_p50'])} / {_ms(r['last_tenth_p50'])}"
        "  (growing = not keeping up with the rate)"
    )
    print(f"  webhook POST        p50 {_ms(r['post_p50'])}, p99 {_ms(r['post_p99'])}")
    print(
        f"  baseline: warm-up text on an idle system {r['warmup_ms']:.0f} ms; p99 / warm-up "
        f"{(r['p99'] or 0) / max(r['warmup_ms'], 1e-9):.2f}"
    )
    print(
        f"  list refreshes      {r['swaps']} swaps of #rows "
        f"({r['swaps'] / r['send_seconds']:.1f}/s while sending), "
        f"interval p50 {_ms(r['gap_p50'])}, max {_ms(r['gap_max'])}; at most {r['most_between']} "
        f"conversations created in routing between two refreshes (a page shows {FIRST_PAGE})"
    )
    print(
        f"  web GET /conversations during the run: {r['refresh_requests']} requests, mean "
        f"{_ms(r['refresh_server_ms'])} inside web"
    )
    print(
        f"  legs                POST -> conversation created in routing p50 {_ms(r['to_routing_p50'])}, "
        f"p99 {_ms(r['to_routing_p99'])}; created -> row in the page p50 {_ms(r['routing_to_page_p50'])}, "
        f"p99 {_ms(r['routing_to_page_p99'])}"
    )
    if r["missing"]:
        why = ", ".join(f"{reason} {count}" for reason, count in r["missing_why"].items())
        print(f"  missing             {len(r['missing'])} (first {r['missing'][:8]}): {why}")
    print(
        f"  clocks              page - time.time() = {r['clock_offset_ms']:+.2f} ms "
        f"(+/- {r['clock_uncertainty_ms']:.2f})"
    )
    if r["page_errors"]:
        print(f"  page errors         {r['page_errors'][:3]}")
    print_cpu_per_process(r["cpu"], r["sent"], "text")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=50, help="webhooks per second")
    parser.add_argument("--seconds", type=float, default=40, help="how long to send for")
    parser.add_argument("--grace", type=float, default=15, help="seconds to wait for the last rows")
    args = parser.parse_args()
    run(args.rate, args.seconds, args.grace)


if __name__ == "__main__":
    main()
