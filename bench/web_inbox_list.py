"""The web inbox's Conversations page at dealership scale next to the routing call it wraps.

Data: inbox_list.py's dataset (`inbox_list.load`: one account, 100,000 conversations, 1,000,000
messages, 20 agents, 5 teams), in its own database. routing and web run as real processes
(`python -m routing serve`, `python -m web serve`, free ports, LOG_LEVEL=WARNING, a unique Kafka
topic prefix). The account's admin (agent 0, role admin; its password set to the demo password)
signs in through web's own sign-in form, which gives the session cookie; routing is called with
the same token as a Bearer header.

Measured, per case (view x status), with wrk (1 thread, 4 connections, 10 s by default, after a
2 s warm-up of each), in the same run, alternating routing then web:
- routing  GET /api/v1/conversations?view=..&status=..&limit=50          (the baseline)
- web      GET /conversations?view=..&status=..     (the whole page: 50 rows and the menus; their
           numbers come by the page's own second request, below)
- counts   GET /conversations/counts?view=..&status=..  (that second request: every count out of band)
wrk gives requests/s and the latency distribution (p50/p95/p99/max, from a Lua `done()`); each
process's own /metrics (request duration histogram, sum / count over the run) gives the mean
server time of the page inside web and of each backend call inside routing, i.e. which calls a
page makes and what they cost; /proc gives CPU per request for web, routing and PostgreSQL.
Goal: web p95 < 50 ms and web p95 <= 1.5 x routing's p95.

`--web-before DIR` runs a second web beside the first, from an earlier copy of web's package
(`git archive <commit> services/web | tar -x -C /tmp/x`, DIR = /tmp/x/services/web, put first on
its PYTHONPATH), on the same routing: each case then measures routing, the earlier web
("before") and this tree's web alternately, so a change is compared within one run.

`--profile` adds one more web run with py-spy attached (non-blocking) to web and to routing and
prints where their CPU samples fall. py-spy: `pip install --target /tmp/pyspy py-spy` (or
anywhere; `--py-spy PATH`).

wrk is the Debian package `wrk` (`apt-get install wrk`); the script stops and says so when it is
missing.

.venv/bin/python bench/web_inbox_list.py [--conversations 100000] [--messages-per-conversation 10]
    [--cases all:open,user:open,team:open,all:all] [--seconds 10] [--connections 4] [--rounds 1]
    [--profile] [--py-spy /tmp/pyspy/bin/py-spy] [--keep | --database NAME] [--save-html DIR]
    [--web-before DIR] [--skip-counts] [--routing-pauses 0,3,8]

`--routing-pauses` adds, after the cases, routing's CPU per list call under wrk -c1 for wrk's
request, for web's request as web sends it, and for web's request with those pauses (ms) between
calls (wrk's `delay()`), as a page's own work leaves routing idle between its calls.
"""

import argparse
import asyncio
import contextlib
import os
import re
import resource
import secrets
import shutil
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import inbox_list
from environment import (
    BASE_DATABASE_URL,
    KAFKA_BOOTSTRAP,
    CpuMeter,
    _admin_sql,
    _delete_prefixed_topics,
    dsn,
    pids_matching,
)
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url

from devtools import demo
from devtools.migrate import migrate_all
from devtools.processes import ServiceProcess, service_urls, start_services, stop_services
from shared.testing.ports import free_ports_for

ADMIN_EMAIL = "agent0@bench.test"  # inbox_list.load's user 0, the account's admin
PAGE = 50
LIST = "/api/v1/conversations"
WRK_INSTALL = "wrk is missing: install the Debian package (as root: apt-get install -y wrk)"

LUA = """
wrk.headers["{header}"] = "{value}"
{extra}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRKRESULT %d %d %d %d %d %d %d %d %d %d %d\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.timeout, e.status))
end
"""


def _view(kind: str) -> str:
    """The view as a URL says it; `user`/`team` pick one of the loaded agents / teams."""
    if kind == "user":
        return f"user:{inbox_list._uuid(1, 3)}"
    if kind == "team":
        return f"team:{inbox_list._uuid(2, 2)}"
    return kind


@contextlib.contextmanager
def services_on(
    database_url: str, names: list[str], web_before: str | None = None
) -> Iterator[dict[str, ServiceProcess]]:
    """The services `names` as processes on `database_url` (kept or loaded here), the way
    environment.bench_environment starts them; the run's Kafka topics are deleted afterwards.
    `web_before`: a second web ("before") from that copy of web's package, beside the first."""
    prefix = f"b{secrets.token_hex(4)}."
    log_dir = Path(tempfile.mkdtemp(prefix="switchboard-bench-"))
    env = {
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": KAFKA_BOOTSTRAP,
        "KAFKA_TOPIC_PREFIX": prefix,
        "KAFKA_PUBLISH_TIMEOUT_SECONDS": "3",
        "KAFKA_PARTITIONS": "3",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "WARNING",
        "SHUTDOWN_GRACE_SECONDS": "5",
    }
    print(f"[env] topic prefix {prefix!r}, logs {log_dir}", flush=True)
    ports = free_ports_for([*names, "before"])
    services = start_services(env, log_dir, {n: ports[n] for n in names}, names=names)
    try:
        if web_before:
            before = ServiceProcess(
                "web",
                ports["before"],
                {**env, **service_urls(ports), "PYTHONPATH": web_before},
                log_dir / "web-before.log",
            )
            services["before"] = before
            before.start()
            before.wait_ready()
        yield services
    finally:
        stop_services(services)
        with contextlib.suppress(Exception):
            deleted = asyncio.run(_delete_prefixed_topics(KAFKA_BOOTSTRAP, prefix))
            print(f"[env] deleted {deleted} topics with prefix {prefix!r}", flush=True)


async def set_admin_password(url: str) -> None:
    from routing.auth.usecases import password_hash

    connection = await asyncpg.connect(dsn(url))
    try:
        await connection.execute(
            "UPDATE routing.people SET password_hash = $1 WHERE email = $2",
            password_hash.hash(demo.PASSWORD),
            ADMIN_EMAIL,
        )
    finally:
        await connection.close()


def sign_in(web: str) -> str:
    """Signs in through web's form (CSRF double submit) and returns the session cookie's value."""
    with httpx.Client(base_url=web, timeout=10, follow_redirects=False) as client:
        form = client.get("/signin")
        form.raise_for_status()
        field = re.search(r'name="csrftoken" value="([^"]+)"', form.text)
        answer = client.post(
            "/signin",
            data={
                "email": ADMIN_EMAIL,
                "password": demo.PASSWORD,
                "next": "/conversations",
                "csrftoken": field.group(1) if field else "",
            },
        )
        if answer.status_code != 303 or "sb_session" not in client.cookies:
            raise RuntimeError(f"sign-in failed: {answer.status_code} {answer.text[:200]}")
        return client.cookies["sb_session"]


def scrape(url: str) -> dict[tuple[str, str], list[float]]:
    """{(route, 'count'|'sum'): value} of http_request_duration_seconds for GET requests."""
    values: dict[tuple[str, str], list[float]] = {}
    text = httpx.get(f"{url}/metrics", timeout=10).text
    for family in text_string_to_metric_families(text):
        if family.name != "http_request_duration_seconds":
            continue
        for sample in family.samples:
            if sample.labels.get("method") != "GET":
                continue
            kind = sample.name.rsplit("_", 1)[-1]
            if kind in ("count", "sum"):
                values.setdefault((sample.labels["route"], kind), [0.0])[0] += sample.value
    return values


def served(before: dict, after: dict) -> dict[str, tuple[int, float]]:
    """{route: (requests, mean server ms)} between two scrapes."""
    out = {}
    for (route, kind), (value,) in after.items():
        if kind != "count" or route in ("/metrics", "/readyz", "/healthz"):
            continue
        count = value - before.get((route, "count"), [0.0])[0]
        if count > 0:
            total = after[(route, "sum")][0] - before.get((route, "sum"), [0.0])[0]
            out[route] = (int(count), total * 1000 / count)
    return out


def run_wrk(url: str, header: str, value: str, seconds: float, connections: int, extra: str = "") -> dict:
    """`extra`: more of wrk's Lua (other headers, a `delay()` between requests)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA.format(header=header, value=value, extra=extra))
    try:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        completed = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{seconds:g}s",
                "--timeout",
                "10s",
                "--latency",
                "-s",
                script.name,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    finally:
        os.unlink(script.name)
    line = next(line for line in completed.stdout.splitlines() if line.startswith("WRKRESULT"))
    n, duration_us, p50, p95, p99, top, *errors = (int(v) for v in line.split()[1:])
    return {
        "requests": n,
        "per_s": n / (duration_us / 1e6),
        "p50": p50 / 1000,
        "p95": p95 / 1000,
        "p99": p99 / 1000,
        "max": top / 1000,
        "errors": dict(zip(("connect", "read", "write", "timeout", "non-2xx"), errors, strict=True)),
        "wrk_cpu_s": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
    }


def measure_one(
    label: str,
    url: str,
    header: str,
    value: str,
    seconds: float,
    connections: int,
    services: dict[str, ServiceProcess],
    cpu: CpuMeter,
) -> dict:
    scraped = {name: scrape(service.url) for name, service in services.items()}
    cpu.start()
    result = run_wrk(url, header, value, seconds, connections)
    used = cpu.stop()
    result["label"] = label
    result["served"] = {name: served(scraped[name], scrape(s.url)) for name, s in services.items()}
    result["cpu_ms"] = {
        name: used[name] * 1000 / max(1, result["requests"]) for name in ("web", "routing", "postgres")
    }
    if label == "before":  # the page's own web is the earlier copy
        result["cpu_ms"]["web"] = used["before"] * 1000 / max(1, result["requests"])
    result["cpu_ms"]["wrk"] = result["wrk_cpu_s"] * 1000 / max(1, result["requests"])
    result["machine_busy"] = used["machine busy"] / max(used["machine total"], 1e-9)
    return result


def check_pages(
    web: str, routing: str, cookie: str, cases: list[tuple[str, str]], save_to: Path | None = None
) -> None:
    """Every case answers 200 with a full page of rows before anything is timed; `save_to` keeps
    each page's HTML (to see what its bytes are)."""
    for view, status in cases:
        query = f"view={view}&status={status}"
        api = httpx.get(
            f"{routing}{LIST}?{query}&limit={PAGE}", headers={"authorization": f"Bearer {cookie}"}, timeout=30
        )
        page = httpx.get(f"{web}/conversations?{query}", cookies={"sb_session": cookie}, timeout=30)
        if api.status_code != 200 or page.status_code != 200:
            raise RuntimeError(
                f"{query}: routing {api.status_code}, web {page.status_code} {page.text[:300]}"
            )
        rows = page.text.count("data-conversation=")
        if save_to:
            save_to.mkdir(parents=True, exist_ok=True)
            (save_to / f"{view.split(':')[0]}-{status}.html").write_text(page.text)
        print(
            f"[check] {query}: routing {len(api.json()['items'])} items, web {rows} rows, "
            f"{len(page.content) // 1024} KB of HTML",
            flush=True,
        )


def profile(py_spy: str, pids: dict[str, int], seconds: float, out_dir: Path) -> dict[str, Path]:
    """Starts py-spy (non-blocking, 200 Hz) on each pid for `seconds`; returns the raw outputs."""
    procs, outputs = {}, {}
    for name, pid in pids.items():
        outputs[name] = out_dir / f"{name}.folded"
        procs[name] = subprocess.Popen(
            [
                py_spy,
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(int(seconds)),
                "--rate",
                "200",
                "--nonblocking",
                "--format",
                "raw",
                "--output",
                str(outputs[name]),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
    time.sleep(1.0)  # py-spy attaches
    return {"procs": procs, "outputs": outputs}


WEB_FRAMES = {
    "template rendering (Renderer.render: Jinja2 + format filters)": ("Renderer.render (web/rendering.py",),
    "backend calls (Backend.call: aiohttp client, JSON decode)": ("Backend.call (web/backend.py",),
    "  of which JSON decode": ("answer_of (web/backend.py",),
    "rows and view menu (conversation_rows.py, list_menu.py)": ("RowWriter.", "view_menu_items (web/"),
    "building the context (list_context, view_choices)": ("list_context (web/", "view_choices (web/"),
}
PROJECT = ("web/", "routing/", "shared/")
WRAPPERS = ("shared/runner.py", "shared/cli.py", "/__main__.py", "shared/http/observability.py")


def summarize_profile(path: Path, interesting: dict[str, tuple[str, ...]] | None, top: int = 12) -> list[str]:
    """Share of the busy samples under each interesting frame; by package of the innermost frame
    (where the CPU went: jinja2, httpx/httpcore/h11, asyncio, ...); the project's own functions by
    inclusive share."""
    stacks: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks[stack] += int(count)
    total = sum(stacks.values())
    if not total:
        return ["  (no samples)"]
    lines = [f"  {total} busy samples at 200 Hz"]
    for label, needles in (interesting or {}).items():
        hit = sum(c for s, c in stacks.items() if any(n in s for n in needles))
        lines.append(f"  {hit * 100 / total:5.1f} %  {label}")
    leaf: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for stack, count in stacks.items():
        frames = stack.split(";")
        leaf[_package(frames[-1])] += count
        for frame in {_short(f) for f in frames}:
            if frame.split(" (", 1)[-1].startswith(PROJECT) and not any(w in frame for w in WRAPPERS):
                inclusive[frame] += count
    lines.append(
        "  innermost frame by package: "
        + ", ".join(f"{name} {count * 100 / total:.0f} %" for name, count in leaf.most_common(8))
    )
    lines.append("  the project's functions by inclusive share:")
    for frame, count in inclusive.most_common(top):
        lines.append(f"    {count * 100 / total:5.1f} %  {frame}")
    return lines


def _short(frame: str) -> str:
    """`Class.name (pkg/mod.py:12)` -> `Class.name (pkg/mod.py)`."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rstrip(')').rsplit(':', 1)[0]})"


def _package(frame: str) -> str:
    where = frame.partition(" (")[2]
    top = where.split("/", 1)[0] if "/" in where else where.rsplit(":", 1)[0]
    return top.removesuffix(".py") or "?"


def run(args: argparse.Namespace) -> list[dict]:
    """Measures every case (see the module's docstring); the wrk results, web's runs with their
    `baseline` (the routing run of the same case)."""
    if not shutil.which("wrk"):
        raise SystemExit(WRK_INSTALL)
    cases = [tuple(case.split(":", 1)) for case in args.cases.split(",")]
    name = args.database or f"bench_webinbox_{secrets.token_hex(3)}"
    url = make_url(BASE_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    if not args.database:
        asyncio.run(_admin_sql(f'CREATE DATABASE "{name}"'))
    try:
        if not args.database:
            migrate_all(url)
            asyncio.run(inbox_list.load(url, args.conversations, args.messages_per_conversation))
        asyncio.run(set_admin_password(url))
        with services_on(url, ["routing", "web"], args.web_before) as services:
            routing, web = services["routing"].url, services["web"].url
            cookie = sign_in(web)
            resolved = [(_view(v), s) for v, s in cases]
            check_pages(web, routing, cookie, resolved, Path(args.save_html) if args.save_html else None)
            cpu = CpuMeter(
                {
                    "web": lambda: [services["web"].process.pid],
                    "before": lambda: [services["before"].process.pid] if "before" in services else [],
                    "routing": lambda: [services["routing"].process.pid],
                    "postgres": lambda: pids_matching(f" {name} "),
                }
            )
            print(
                f"[run] {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, database {name}, wrk -t1 "
                f"-c{args.connections} -d{args.seconds:g}s per endpoint, {args.rounds} round(s), "
                f"{os.cpu_count()} CPUs shared by PostgreSQL, Kafka, routing, web and wrk; "
                f"load average {os.getloadavg()[0]:.1f}",
                flush=True,
            )
            results = []
            for view, status in resolved:
                query = f"view={view}&status={status}"
                targets = [
                    ("routing", f"{routing}{LIST}?{query}&limit={PAGE}", "Authorization", f"Bearer {cookie}"),
                    *(
                        [
                            (
                                "before",
                                f"{services['before'].url}/conversations?{query}",
                                "Cookie",
                                f"sb_session={cookie}",
                            )
                        ]
                        if "before" in services
                        else []
                    ),
                    ("web", f"{web}/conversations?{query}", "Cookie", f"sb_session={cookie}"),
                    # The page's numbers, which the page asks for once its rows are shown.
                    ("counts", f"{web}/conversations/counts?{query}", "Cookie", f"sb_session={cookie}"),
                ][: -1 if args.skip_counts else None]
                for _, target, header, value in targets:  # warm-up, not counted
                    run_wrk(target, header, value, 2, args.connections)
                for _ in range(args.rounds):
                    for label, target, header, value in targets:
                        result = measure_one(
                            label, target, header, value, args.seconds, args.connections, services, cpu
                        )
                        result["case"] = f"{view.split(':')[0]} {status}"
                        results.append(result)
            report(results)
            if args.routing_pauses is not None:
                routing_pauses(services, cookie, resolved[0], args)
            if args.profile:
                view, status = resolved[0]
                out_dir = Path(tempfile.mkdtemp(prefix="switchboard-bench-profile-"))
                pids = {n: services[n].process.pid for n in ("web", "routing")}
                spy = profile(args.py_spy, pids, args.seconds + 1, out_dir)
                run_wrk(
                    f"{web}/conversations?view={view}&status={status}",
                    "Cookie",
                    f"sb_session={cookie}",
                    args.seconds,
                    args.connections,
                )
                for process_name, proc in spy["procs"].items():
                    _, err = proc.communicate(timeout=args.seconds + 30)
                    if proc.returncode:
                        print(f"[profile] py-spy on {process_name} failed: {err.decode()[-300:]}")
                print(f"\n== py-spy during a web run ({view} {status}), folded stacks in {out_dir} ==")
                for process_name, path in spy["outputs"].items():
                    if path.exists():
                        print(f"{process_name}:")
                        interesting = WEB_FRAMES if process_name == "web" else None
                        print("\n".join(summarize_profile(path, interesting)))
    finally:
        if args.keep or args.database:
            print(f"[keep] database {name} (measure it again with --database {name})")
        else:
            asyncio.run(_admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            print(f"[env] dropped {name}")
    return results


# What web's list call sends beyond wrk's (aiohttp's own headers; its query escapes the view's `:`).
AIOHTTP_HEADERS = (
    'wrk.headers["Accept"] = "application/json"\n'
    'wrk.headers["Accept-Encoding"] = "gzip, deflate"\n'
    'wrk.headers["User-Agent"] = "Python/3.11 aiohttp/3.14.5"\n'
)


def routing_pauses(
    services: dict[str, ServiceProcess], cookie: str, case: tuple[str, str], args: argparse.Namespace
) -> None:
    """Why routing spends more CPU on the list call inside a page than under wrk alone: routing's
    CPU per call (wrk -c1, first case) for wrk's request, for web's request as web sends it, and
    for web's request with a pause between calls as long as a page's work around it (wrk's
    `delay()`): the request itself, or the gap between calls."""
    view, status = case
    routing = services["routing"].url
    plain = f"{routing}{LIST}?view={view}&status={status}&limit={PAGE}"
    escaped = plain.replace(view, view.replace(":", "%3A"), 1)
    runs = [("wrk's request, back to back", plain, "")]
    for pause in args.routing_pauses:
        delay = f"delay = function() return {pause:g} end" if pause else ""
        label = f"web's request, {pause:g} ms between calls" if pause else "web's request, back to back"
        runs.append((label, escaped, AIOHTTP_HEADERS + delay))
    cpu = CpuMeter({"routing": lambda: [services["routing"].process.pid]})
    measured: dict[str, list[tuple[float, float]]] = {label: [] for label, _, _ in runs}
    for _ in range(args.rounds):
        for label, url, extra in runs:
            cpu.start()
            result = run_wrk(url, "Authorization", f"Bearer {cookie}", args.seconds, 1, extra)
            used = cpu.stop()
            measured[label].append((used["routing"] * 1000 / max(1, result["requests"]), result["p50"]))
    case_name = f"{view.split(':')[0]} {status}"
    print(f"\n== routing's CPU per list call ({case_name}, wrk -c1), load {os.getloadavg()[0]:.1f} ==")
    for label, values in measured.items():
        cpus = ", ".join(f"{c:.2f}" for c, _ in values)
        print(
            f"{label:<40} routing {statistics.median(c for c, _ in values):.2f} ms CPU a call ({cpus}); "
            f"p50 {statistics.median(p for _, p in values):.1f} ms"
        )


def report(results: list[dict]) -> None:
    print()
    print("== wrk: routing's list API (baseline) vs web's Conversations page, same run ==")
    print(
        f"{'case':<11} {'endpoint':<8} {'req/s':>7} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7} "
        f"{'server':>7} {'p95 web/routing':>16}  errors  (ms; server = mean inside the process)"
    )
    last_routing: dict[str, dict] = {}
    for r in results:
        own = r["served"]["web" if r["label"] == "counts" else r["label"]]
        route = {
            "routing": LIST,
            "web": "/conversations",
            "before": "/conversations",
            "counts": "/conversations/counts",
        }[r["label"]]
        server = own.get(route, (0, float("nan")))[1]
        ratio = ""
        if r["label"] == "routing":
            last_routing[r["case"]] = r
        elif r["label"] in ("web", "before"):
            base = r["baseline"] = last_routing[r["case"]]
            ratio = f"{r['p95'] / base['p95']:.2f}x (p50 {r['p50'] / base['p50']:.2f}x)"
        errors = sum(r["errors"].values())
        print(
            f"{r['case']:<11} {r['label']:<8} {r['per_s']:>7.1f} {r['p50']:>7.1f} {r['p95']:>7.1f} "
            f"{r['p99']:>7.1f} {r['max']:>7.1f} {server:>7.1f} {ratio:>16}  {errors or '-'}"
        )
    print("\n== what one web page costs (from the web runs): calls to routing, CPU per page ==")
    for r in (r for r in results if r["label"] in ("web", "before", "counts")):
        case, base = r["case"], last_routing_of(results, r)
        page_route = "/conversations/counts" if r["label"] == "counts" else "/conversations"
        own = r["served"]["before" if r["label"] == "before" else "web"]
        pages = max(1, own.get(page_route, (1, 0))[0])
        calls = sorted(r["served"]["routing"].items(), key=lambda kv: -kv[1][0] * kv[1][1])
        routing_ms = sum(n * ms for n, ms in r["served"]["routing"].values()) / pages
        call_count = sum(n for n, _ in r["served"]["routing"].values()) / pages
        print(
            f"{case} {r['label']} {page_route}: mean {own.get(page_route, (0, 0))[1]:.1f} ms in web; "
            f"routing busy {routing_ms:.1f} ms per page over {call_count:.1f} calls"
        )
        for route, (n, ms) in calls:
            print(f"    {route:<40} {n / pages:4.1f} per page, {ms:6.1f} ms mean in routing")
        cpu, cpu_base = r["cpu_ms"], base["cpu_ms"]
        print(
            f"    CPU ms per request  {r['label']}: web {cpu['web']:.1f}, routing {cpu['routing']:.1f}, "
            f"postgres {cpu['postgres']:.1f}, wrk {cpu['wrk']:.2f}  |  routing call alone: routing "
            f"{cpu_base['routing']:.1f}, postgres {cpu_base['postgres']:.1f}; machine busy "
            f"{r['machine_busy'] * 100:.0f} % / {base['machine_busy'] * 100:.0f} %"
        )
    print(
        "\n== page / routing call, per case: median over the rounds (each against the routing run before it)"
    )
    for case in dict.fromkeys(r["case"] for r in results):
        line = []
        for label in ("before", "web"):
            pages = [r for r in results if r["label"] == label and r["case"] == case]
            if pages:
                p95 = statistics.median(r["p95"] / r["baseline"]["p95"] for r in pages)
                p50 = statistics.median(r["p50"] / r["baseline"]["p50"] for r in pages)
                line.append(f"{label} p95 {p95:.2f}x p50 {p50:.2f}x ({len(pages)} runs)")
        print(f"{case:<11} " + "  |  ".join(line))
    webs = [r for r in results if r["label"] == "web"]
    worst = max(webs, key=lambda r: r["p95"])
    print(
        f"\ngoal: web p95 < 50 ms and within 1.5x of routing's. Worst web p95 {worst['p95']:.1f} ms "
        f"({worst['case']})."
    )


def last_routing_of(results: list[dict], measured: dict) -> dict:
    """The routing run of the same case that came last before `measured`."""
    before = results[: results.index(measured)]
    return next(r for r in reversed(before) if r["label"] == "routing" and r["case"] == measured["case"])


def options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages-per-conversation", type=int, default=10)
    parser.add_argument("--cases", default="all:open,user:open,team:open,all:all", help="view:status,...")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=1, help="routing then web, this many times per case")
    parser.add_argument("--profile", action="store_true", help="one more web run under py-spy")
    parser.add_argument("--py-spy", default=shutil.which("py-spy") or "/tmp/pyspy/bin/py-spy")  # noqa: S108
    parser.add_argument("--keep", action="store_true", help="keep the loaded database afterwards")
    parser.add_argument("--database", help="measure a database kept by --keep (no load)")
    parser.add_argument("--save-html", help="a folder to keep each case's page in")
    parser.add_argument("--web-before", help="an earlier copy of services/web to measure beside this one")
    parser.add_argument("--skip-counts", action="store_true", help="measure the page, not its counts request")
    parser.add_argument(
        "--routing-pauses",
        type=lambda text: [float(p) for p in text.split(",")],
        help="e.g. 0,3,8: routing's CPU per list call with these pauses (ms) between calls",
    )
    args = parser.parse_args(argv)
    if not (0 < args.seconds <= 120 and 1 <= args.connections <= 64 and 1 <= args.rounds <= 5):
        raise SystemExit("need 0 < seconds <= 120, 1 <= connections <= 64, 1 <= rounds <= 5")
    return args


def main() -> None:
    run(options())


if __name__ == "__main__":
    main()
