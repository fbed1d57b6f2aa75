"""CPU per webhook inside ingest's process (issue 17, goal 1): signed Twilio inbound webhooks
posted straight to ingest's ASGI app (its real `create_app`, lifespan and all: PostgreSQL claims,
Kafka acknowledgements, usage counted with each claim) by 32 concurrent posters in the
same process, against the same posts to ingest's bare stack (`ingest_bare_server.py`'s app).
No sockets and no load generator: the process's CPU time over N webhooks is ingest's own cost,
steadier on a shared machine than a wrk run's rate (other work stretches the wall time, not the
CPU time), so a change can be judged from it with a few thousand webhooks.

    .venv/bin/python bench/ingest_webhook_cpu.py [-n 4000] [--rounds 3] [--concurrency 32]
        [--cprofile build/ingest-webhook.pstats] [--pyspy build/profile-ingest-webhook-cpu.txt]

Prints per round: webhooks/s (wall, in-process), CPU µs per webhook, the mean claim group size;
then medians. `--cprofile` profiles one more round of ingest deterministically (pstats file;
`python -m pstats` or snakeviz to read it); `--pyspy` samples one more round with py-spy
(folded stacks, or a flame graph when the name ends in .svg; py-spy from
`pip install --target /tmp/pyspy py-spy`), which attributes time inside coroutines better.
"""

import argparse
import asyncio
import contextlib
import cProfile
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "bench", ROOT / "services" / "ingest"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from environment import (  # noqa: E402
    BASE_DATABASE_URL,
    KAFKA_BOOTSTRAP,
    _admin_sql,
    _delete_prefixed_topics,
)
from ingest_bare_server import bare_router  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from devtools import demo  # noqa: E402
from devtools.carrier_simulator.twilio import inbound_sms_form, sign  # noqa: E402
from devtools.migrate import migrate_all  # noqa: E402
from devtools.seed import seed_demo  # noqa: E402

PYSPY = Path(shutil.which("py-spy") or "/tmp/pyspy/bin/py-spy")  # noqa: S108
HOST = "127.0.0.1:8081"
SMS_PATH = "/webhooks/twilio/sms"


def signed_posts(count: int, tag: str) -> list[tuple[bytes, bytes]]:
    """(signature, body) of `count` inbound texts, each its own MessageSid."""
    url = f"http://{HOST}{SMS_PATH}"
    posts = []
    for index in range(count):
        form = inbound_sms_form(
            demo.TWILIO_ACCOUNT_SID, f"+1438{index:07d}", demo.DEALERSHIP_NUMBER, f"cpu {tag} {index}"
        )
        posts.append((sign(demo.TWILIO_AUTH_TOKEN, url, form).encode(), urlencode(form).encode()))
    return posts


async def post_all(app, path: str, posts: list[tuple[bytes, bytes]], concurrency: int) -> dict:
    """Posts every body through `concurrency` posters; statuses seen and process CPU used."""
    statuses: dict[int, int] = {}
    queue = iter(posts)

    async def poster() -> None:
        for signature, body in queue:
            scope = {
                "type": "http",
                "asgi": {"version": "3.0"},
                "http_version": "1.1",
                "method": "POST",
                "scheme": "http",
                "path": path,
                "raw_path": path.encode(),
                "query_string": b"",
                "root_path": "",
                "headers": [
                    (b"host", HOST.encode()),
                    (b"content-type", b"application/x-www-form-urlencoded"),
                    (b"content-length", str(len(body)).encode()),
                    (b"x-twilio-signature", signature),
                ],
                "client": ("127.0.0.1", 50000),
                "server": ("127.0.0.1", 8081),
                "state": {},
            }

            async def receive(body: bytes = body) -> dict:
                return {"type": "http.request", "body": body, "more_body": False}

            async def send(message: dict) -> None:
                if message["type"] == "http.response.start":
                    statuses[message["status"]] = statuses.get(message["status"], 0) + 1

            await app(scope, receive, send)

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(poster() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {"statuses": statuses, "cpu_us": cpu / len(posts) * 1e6, "per_s": len(posts) / wall}


@contextlib.asynccontextmanager
async def running(app):
    async with app.router.lifespan_context(app):
        yield


async def sampled(pyspy_to: Path, run) -> None:
    """py-spy records this process (every thread) while `run()` is awaited."""
    pyspy_to.parent.mkdir(parents=True, exist_ok=True)
    spy = subprocess.Popen(  # noqa: ASYNC220 (started once, before the round)
        [str(PYSPY), "record", "-p", str(os.getpid()), "-r", "250", "-o", str(pyspy_to), "-f"]
        + (["flamegraph"] if pyspy_to.suffix == ".svg" else ["raw"]),
        env={**os.environ, "PYTHONPATH": str(PYSPY.parent.parent)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    await asyncio.sleep(1.0)  # py-spy attached
    try:
        await run()
    finally:
        spy.send_signal(2)  # SIGINT: py-spy writes what it has
        await asyncio.to_thread(spy.wait, 60)
    print(f"[py-spy] {pyspy_to}", flush=True)


async def measure(
    n: int, rounds: int, concurrency: int, profile_to: Path | None, pyspy_to: Path | None = None
) -> dict:
    from ingest.app import create_app
    from ingest.settings import IngestSettings
    from ingest.usecases import claims
    from shared.service import build_app, build_infrastructure

    # Group sizes, counted around the claim (the code measured is otherwise untouched).
    groups: list[int] = []
    claim = claims.WebhookClaims._claim_and_publish

    async def counted(self, group, *rest):
        try:
            return await claim(self, group, *rest)
        finally:
            groups.append(len(group))  # filled by the claim once its transaction has begun

    claims.WebhookClaims._claim_and_publish = counted
    ingest = create_app(IngestSettings())
    bare_settings = IngestSettings(service_name="ingest-bare")
    stack = build_app(
        build_infrastructure(bare_settings),
        title="bare",
        description="",
        routers=[bare_router(bare_settings)],
    )
    results: dict[str, list[dict]] = {"stack": [], "ingest": []}
    async with running(ingest), running(stack):
        await post_all(ingest, SMS_PATH, signed_posts(500, "warm"), concurrency)
        await post_all(stack, "/bare/webhook", signed_posts(500, "warm-stack"), concurrency)
        for round_no in range(rounds):
            for name, app, path in (("stack", stack, "/bare/webhook"), ("ingest", ingest, SMS_PATH)):
                posts = signed_posts(n, f"r{round_no}-{name}")
                groups.clear()
                result = await post_all(app, path, posts, concurrency)
                result["mean_group"] = statistics.mean(groups) if groups else 0
                results[name].append(result)
                print(
                    f"[round {round_no + 1}/{rounds}] {name:<6} {result['per_s']:7.0f}/s "
                    f"{result['cpu_us']:7.1f} µs CPU/webhook, statuses {result['statuses']}"
                    + (f", mean group {result['mean_group']:.1f}" if name == "ingest" else ""),
                    flush=True,
                )
        if profile_to is not None:
            posts = signed_posts(n, "profiled")
            profiler = cProfile.Profile()
            profiler.enable()
            await post_all(ingest, SMS_PATH, posts, concurrency)
            profiler.disable()
            profile_to.parent.mkdir(parents=True, exist_ok=True)
            profiler.dump_stats(profile_to)
            print(f"[profile] {profile_to}", flush=True)
        if pyspy_to is not None:
            posts = signed_posts(n, "sampled")
            await sampled(pyspy_to, lambda: post_all(ingest, SMS_PATH, posts, concurrency))
    return results


def run(
    n: int = 4000,
    rounds: int = 3,
    concurrency: int = 32,
    profile_to: Path | None = None,
    pyspy_to: Path | None = None,
) -> dict:
    database = f"bench_{secrets.token_hex(4)}"
    prefix = f"b{secrets.token_hex(4)}."
    asyncio.run(_admin_sql(f'CREATE DATABASE "{database}"'))
    try:
        url = make_url(BASE_DATABASE_URL).set(database=database).render_as_string(hide_password=False)
        migrate_all(url)
        asyncio.run(seed_demo(url))
        os.environ.update(
            DATABASE_URL=url,
            KAFKA_BOOTSTRAP_SERVERS=KAFKA_BOOTSTRAP,
            KAFKA_TOPIC_PREFIX=prefix,
            KAFKA_PARTITIONS="3",
            LOG_FORMAT="json",
            LOG_LEVEL="WARNING",
            SERVICE_NAME="ingest",
        )
        load = os.getloadavg()[0]
        results = asyncio.run(measure(n, rounds, concurrency, profile_to, pyspy_to))
    finally:
        asyncio.run(_admin_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        with contextlib.suppress(Exception):
            asyncio.run(_delete_prefixed_topics(KAFKA_BOOTSTRAP, prefix))
    summary = {
        name: {
            "cpu_us": statistics.median(r["cpu_us"] for r in runs),
            "per_s": statistics.median(r["per_s"] for r in runs),
        }
        for name, runs in results.items()
    }
    stack, ingest = summary["stack"], summary["ingest"]
    print(
        f"\n== CPU per webhook in-process, {rounds} rounds x {n}, {concurrency} at once, medians "
        f"(load average {load:.1f} -> {os.getloadavg()[0]:.1f}) ==\n"
        f"  ingest's stack, no checks   {stack['cpu_us']:7.1f} µs  {stack['per_s']:6.0f}/s\n"
        f"  ingest /webhooks/twilio/sms {ingest['cpu_us']:7.1f} µs  {ingest['per_s']:6.0f}/s"
        f"  (x{ingest['cpu_us'] / stack['cpu_us']:.2f} the stack's CPU)"
    )
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=4000, help="webhooks per server per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--cprofile", type=Path, help="pstats file of one more ingest round")
    parser.add_argument("--pyspy", type=Path, help="py-spy samples of one more ingest round")
    args = parser.parse_args()
    run(args.n, args.rounds, args.concurrency, args.cprofile, args.pyspy)


if __name__ == "__main__":
    main()
