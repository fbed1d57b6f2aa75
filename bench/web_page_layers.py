"""Where web's own CPU goes per Conversations page (issue 13's speed goal), in-process: web's ASGI
app called directly (no socket, no server, no load generator) against a real routing process on a
loaded database, one request at a time. This process's CPU time (time.process_time) is web's own
cost: routing and PostgreSQL run in other processes. Rounds alternate the layers; medians of
microseconds of CPU per request.

Layers (each is part of the one before it, so the differences say what each adds):
- page             GET /conversations?view=..&status=.. through the whole app (security headers,
                   CSRF, FastAPI routing, request metrics, the route, the backend calls, rendering)
- stack only       GET /healthz through the same whole app: the fixed cost of a request
- list call        the routing list call as the page makes it (httpx, orjson), alone
- signed in        who is signed in (answers kept a few seconds: no routing call when warm)
- directory        the staff directory (kept a few seconds, like the person)
- context          the page's context from the answers (records, menus), no I/O
- render           conversations.html rendered from that context, alone
- render rows      partials/conversation_rows.html alone (50 rows)

    .venv/bin/python bench/web_page_layers.py --database bench_webinbox_xxxxxx [-n 200] [--rounds 5]
        [--case all:open]

The database is one kept by `web_inbox_list.py --keep` (100,000 conversations). routing is started
as a process on it (LOG_LEVEL=WARNING), or `--routing-url` names one already running on it; web is
built in this process with `create_app` and runs on uvloop, as under uvicorn.
"""

import argparse
import asyncio
import cProfile
import gc
import pstats
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# web and routing come from the install (or PYTHONPATH: an earlier copy of web to compare with).
for folder in (ROOT, ROOT / "bench"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import httpx  # noqa: E402
import uvloop  # noqa: E402
from environment import BASE_DATABASE_URL  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from starlette.requests import Request  # noqa: E402
from web_inbox_list import ADMIN_EMAIL, _view, services_on, set_admin_password  # noqa: E402

from devtools import demo  # noqa: E402
from web import i18n  # noqa: E402
from web.app import create_app  # noqa: E402
from web.backend import Backend  # noqa: E402
from web.deps import WebDeps  # noqa: E402
from web.pages import conversations  # noqa: E402
from web.pages.inbox_state import InboxState  # noqa: E402
from web.rendering import Renderer, build_environment  # noqa: E402
from web.session import Sessions  # noqa: E402
from web.settings import WebSettings  # noqa: E402


def _scope(path: str, query: str, cookie: str) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1:8080"),
            (b"accept", b"text/html,application/xhtml+xml"),
            (b"accept-language", b"en-CA,en;q=0.9,fr-CA;q=0.8"),
            (b"cookie", f"sb_session={cookie}".encode()),
            (b"user-agent", b"bench"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
        "state": {},
    }


async def call_app(app, scope: dict) -> tuple[int, int]:
    """(status, body bytes) of one request to the ASGI app."""
    status, size = 0, 0

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        nonlocal status, size
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            size += len(message.get("body", b""))

    await app(scope, receive, send)
    return status, size


async def cpu_us(step: Callable[[], Awaitable[object]], n: int) -> tuple[float, float]:
    """(CPU µs, wall µs) per call of `step`, over n calls."""
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(n):
        await step()
    return (time.process_time() - cpu) * 1e6 / n, (time.perf_counter() - wall) * 1e6 / n


async def measure(
    routing_url: str, token: str, view: str, status: str, n: int, rounds: int, profile: bool = False
) -> None:
    settings = WebSettings(routing_url=routing_url, log_level="WARNING")
    backend = Backend(settings)
    app = create_app(settings, backend)
    # The same parts create_app builds, for the layers called alone (the backend is the app's).
    deps = WebDeps(
        settings, backend, Sessions(settings, backend), Renderer(build_environment(), i18n.load_catalogues())
    )
    query = f"view={view}&status={status}"
    page_scope = _scope("/conversations", query, token)
    code, size = await call_app(app, dict(page_scope))
    if code != 200:
        raise SystemExit(f"the page answered {code}")
    print(f"[page] {size:,} bytes", flush=True)

    api = deps.backend.as_user(token)
    state = InboxState(view=view, status=status)
    request = Request({**page_scope, "csrftoken": lambda: "x" * 40})
    signed_in = await deps.sessions.signed_in(request)
    person = signed_in.person
    page = await conversations.list_page(api, state, None)
    directory = await conversations.staff_directory(api)

    def context() -> dict:
        ctx = conversations.list_context(person, state, page, directory, selected=None)
        ctx.update(conversations.counts_context(person, state, directory, None))
        ctx["view_refused"] = False
        ctx["keep_counts"] = False
        return ctx

    ready = context()
    localization = deps.renderer.localization(request, person.time_zone)
    env = deps.renderer.environment

    async def render(template: str) -> str:
        token_ = i18n.current.set(localization)
        try:
            return env.get_template(template).render(
                request=request,
                csrf_token="x" * 40,
                locale=localization.locale,
                html_lang=i18n.html_lang(localization.locale),
                languages=i18n.LANGUAGE_NAMES,
                htmx=False,
                **ready,
            )
        finally:
            i18n.current.reset(token_)

    async def as_coroutine(value: object) -> object:
        return value

    layers: dict[str, Callable[[], Awaitable[object]]] = {
        "page": lambda: call_app(app, dict(page_scope)),
        "stack only (/healthz)": lambda: call_app(app, _scope("/healthz", "", token)),
        "list call": lambda: conversations.list_page(api, state, None),
        "signed in (warm)": lambda: deps.sessions.signed_in(request),
        "directory (warm)": lambda: conversations.staff_directory(api),
        "context": lambda: as_coroutine(context()),
        "render page": lambda: render("conversations.html"),
        "render rows": lambda: render("partials/conversation_rows.html"),
    }
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in layers}
    for step in layers.values():  # warm-up
        await cpu_us(step, max(5, n // 10))
    for _ in range(rounds):
        for name, step in layers.items():
            results[name].append(await cpu_us(step, n))
    print(f"\n{'layer':<24} {'CPU µs (median)':>16} {'min-max':>16} {'wall µs':>10}")
    for name, values in results.items():
        cpus = [c for c, _ in values]
        walls = [w for _, w in values]
        print(
            f"{name:<24} {statistics.median(cpus):>16.0f} {min(cpus):>7.0f}-{max(cpus):<8.0f}"
            f" {statistics.median(walls):>10.0f}"
        )
    page_cpu = statistics.median(c for c, _ in results["page"])
    parts = sum(
        statistics.median(c for c, _ in results[name])
        for name in ("stack only (/healthz)", "list call", "signed in (warm)", "directory (warm)", "context")
    ) + statistics.median(c for c, _ in results["render page"])
    print(f"\npage {page_cpu:.0f} µs; sum of the parts {parts:.0f} µs; rest {page_cpu - parts:.0f} µs")
    if profile:
        # CPU time, not wall: a wait for routing is not web's cost (wall time put it in the socket write).
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        await cpu_us(layers["page"], n)
        profiler.disable()
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(35)
        stats.sort_stats("cumulative").print_stats(45)
    await deps.backend.close()


def run(main: Coroutine) -> None:
    """On uvloop, as uvicorn runs web when uvloop is installed (it is, with uvicorn[standard])."""
    uvloop.run(main)


def login(routing_url: str) -> str:
    answer = httpx.post(
        f"{routing_url}/api/v1/auth/login",
        json={"email": ADMIN_EMAIL, "password": demo.PASSWORD},
        timeout=30,
    )
    answer.raise_for_status()
    return answer.json()["access_token"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", required=True, help="a database kept by web_inbox_list.py --keep")
    parser.add_argument("--routing-url", help="a routing already running on that database")
    parser.add_argument("-n", type=int, default=200, help="requests per layer per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="cProfile n pages after the layers")
    parser.add_argument("--case", default="all:open", help="view:status, as web_inbox_list.py's cases")
    args = parser.parse_args()
    view, status = args.case.split(":", 1)
    url = make_url(BASE_DATABASE_URL).set(database=args.database).render_as_string(hide_password=False)
    asyncio.run(set_admin_password(url))
    with open("/proc/loadavg") as load:
        print(f"[load] {load.read().strip()}", flush=True)
    if args.routing_url:
        run(
            measure(
                args.routing_url,
                login(args.routing_url),
                _view(view),
                status,
                args.n,
                args.rounds,
                args.profile,
            )
        )
        return
    with services_on(url, ["routing"]) as services:
        routing_url = services["routing"].url
        token = login(routing_url)
        run(measure(routing_url, token, _view(view), status, args.n, args.rounds, args.profile))
    with open("/proc/loadavg") as load:
        print(f"[load] {load.read().strip()}", flush=True)


if __name__ == "__main__":
    main()
