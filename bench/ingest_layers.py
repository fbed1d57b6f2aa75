"""What each layer of ingest's HTTP stack costs per request (issue 17, goal 1), in-process: the
same form body posted straight to the ASGI app (no sockets, no server, no load generator), to a
bare FastAPI app and to that app with each layer added in turn, rounds alternated, medians of
microseconds per request. Nothing here needs Kafka or PostgreSQL (routes answer from memory), so
the figures hold even on a busy machine better than a wrk run's: every variant is timed in the
same process, next to the others.

    .venv/bin/python bench/ingest_layers.py [-n 3000] [--rounds 5]

Layers: error handlers (install_error_handlers), RequestMetrics without and with a tracer
provider (shared/http/observability.py; the provider samples nothing, as in the services without
an exporter), OpenTelemetry's ASGI instrumentation (what the services used before issue 17) for
comparison, and the whole build_app of ingest's stack (bench/ingest_bare_server.py's app).
"""

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from fastapi import FastAPI  # noqa: E402
from ingest_bare_server import bare_router  # noqa: E402
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased  # noqa: E402
from prometheus_client import CollectorRegistry  # noqa: E402

from devtools import demo  # noqa: E402
from devtools.carrier_simulator.twilio import inbound_sms_form  # noqa: E402
from ingest.settings import IngestSettings  # noqa: E402
from shared.http.errors import install_error_handlers  # noqa: E402
from shared.http.observability import RequestMetrics  # noqa: E402
from shared.service import build_app, build_infrastructure  # noqa: E402

BODY = urlencode(
    inbound_sms_form(demo.TWILIO_ACCOUNT_SID, "+14380000001", demo.DEALERSHIP_NUMBER, "hi")
).encode()
HEADERS = [
    (b"host", b"127.0.0.1:8081"),
    (b"content-type", b"application/x-www-form-urlencoded"),
    (b"content-length", str(len(BODY)).encode()),
    (b"x-twilio-signature", b"c2lnbmF0dXJl"),
]


def _scope() -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/bare/webhook",
        "raw_path": b"/bare/webhook",
        "query_string": b"",
        "root_path": "",
        "headers": HEADERS,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8081),
        "state": {},
    }


async def per_request_us(app, n: int) -> float:
    async def receive() -> dict:
        return {"type": "http.request", "body": BODY, "more_body": False}

    async def send(_message: dict) -> None:
        return None

    started = time.perf_counter()
    for _ in range(n):
        await app(_scope(), receive, send)
    return (time.perf_counter() - started) / n * 1e6


def variants() -> dict[str, FastAPI]:
    quiet = TracerProvider(sampler=ParentBased(ALWAYS_OFF))
    off = {"tracing": False, "metrics": False, "logs": False}
    settings = IngestSettings(service_name="ingest-layers", log_level="WARNING")

    def app(*layers: str) -> FastAPI:
        made = FastAPI(telemetry=off)
        made.include_router(bare_router(settings))
        if "errors" in layers:
            install_error_handlers(made)
        if "metrics" in layers:
            made.add_middleware(RequestMetrics, registry=CollectorRegistry())
        if "metrics+trace" in layers:
            made.add_middleware(RequestMetrics, registry=CollectorRegistry(), tracer_provider=quiet)
        if "otel" in layers:
            FastAPIInstrumentor.instrument_app(made, tracer_provider=quiet)
        return made

    stack = build_app(
        build_infrastructure(settings), title="layers", description="", routers=[bare_router(settings)]
    )
    return {
        "bare FastAPI": app(),
        "+ error handlers": app("errors"),
        "+ RequestMetrics (metrics only)": app("errors", "metrics"),
        "+ RequestMetrics with tracing": app("errors", "metrics+trace"),
        "instead: OpenTelemetry ASGI (before)": app("errors", "metrics", "otel"),
        "ingest's stack (build_app)": stack,
    }


async def measure(n: int, rounds: int) -> dict[str, list[float]]:
    apps = variants()
    for made in apps.values():
        await per_request_us(made, 200)  # warm: routes compiled, caches filled
    times: dict[str, list[float]] = {name: [] for name in apps}
    for _ in range(rounds):
        for name, made in apps.items():
            times[name].append(await per_request_us(made, n))
    return times


def run(n: int = 3000, rounds: int = 5) -> dict[str, float]:
    """Median microseconds per request of each variant."""
    return {name: statistics.median(values) for name, values in asyncio.run(measure(n, rounds)).items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=3000, help="requests per variant per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    times = asyncio.run(measure(args.n, args.rounds))
    bare = statistics.median(times["bare FastAPI"])
    print(
        f"\n== ingest's HTTP layers in-process, {args.rounds} rounds x {args.n} posts, "
        "median us per request =="
    )
    for name, values in times.items():
        median = statistics.median(values)
        print(
            f"  {name:<38} {median:7.1f} us   x{median / bare:4.2f} of bare   "
            f"(rounds {min(values):.0f}-{max(values):.0f})"
        )


if __name__ == "__main__":
    main()
