"""The cost of ingest's checks: inbound webhooks accepted per second by ingest (Twilio form posts
and Telnyx JSON events, each signature-checked, deduplicated in PostgreSQL and acknowledged by
Kafka before the 200) next to a bare endpoint on the same server stack (bench/ingest_bare_server.py:
ingest's build_app + shared.runner.serve, one uvicorn process, reading the same bodies) in the
same run. Rounds alternate bare / Twilio / Telnyx so drift on the shared host hits each alike.

    .venv/bin/python bench/ingest_checks.py [-n 1000] [-c 32] [--rounds 2]
"""

import argparse
import asyncio
import time
from urllib.parse import urlencode

import httpx
from environment import bench_environment, percentile, start_server

from devtools import demo
from devtools.carrier_simulator.telnyx import encode, received_event, signed_headers
from devtools.carrier_simulator.twilio import inbound_sms_form, sign

Request = tuple[str, bytes, dict[str, str]]
FORM = "application/x-www-form-urlencoded"


def twilio_requests(ingest_url: str, count: int, tag: str) -> list[Request]:
    url = f"{ingest_url}/webhooks/twilio/sms"
    built = []
    for index in range(count):
        form = inbound_sms_form(
            demo.TWILIO_ACCOUNT_SID, f"+1438{index:07d}", demo.DEALERSHIP_NUMBER, f"bench {tag} {index}"
        )
        headers = {"content-type": FORM, "x-twilio-signature": sign(demo.TWILIO_AUTH_TOKEN, url, form)}
        built.append((url, urlencode(form).encode(), headers))
    return built


def telnyx_requests(ingest_url: str, count: int, tag: str) -> list[Request]:
    # Signed when built: the whole run stays well inside the 300 s timestamp window.
    built = []
    for index in range(count):
        body = encode(received_event(f"+1438{index:07d}", demo.TELNYX_NUMBER, f"bench {tag} {index}"))
        built.append((f"{ingest_url}/webhooks/telnyx", body, signed_headers(demo.TELNYX_PRIVATE_KEY, body)))
    return built


def bare_requests(bare_url: str, twilio: list[Request]) -> list[Request]:
    """The same Twilio bodies, to the endpoint that checks nothing."""
    return [(f"{bare_url}/bare/webhook", body, {"content-type": FORM}) for _, body, _ in twilio]


async def post_all(requests: list[Request], concurrency: int) -> dict:
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    queue: asyncio.Queue[Request] = asyncio.Queue()
    for item in requests:
        queue.put_nowait(item)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:

        async def worker() -> None:
            while True:
                try:
                    url, body, headers = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                started = time.perf_counter()
                try:
                    response = await client.post(url, content=body, headers=headers)
                    outcome = response.headers.get("x-switchboard-outcome") or response.json().get("outcome")
                    key = f"{response.status_code} {outcome}"
                except (httpx.HTTPError, ValueError) as exc:
                    key = type(exc).__name__
                statuses[key] = statuses.get(key, 0) + 1
                if key == "200 accepted":
                    latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    return {"wall_s": wall, "accepted": len(latencies), "latencies": latencies, "statuses": statuses}


def run(count: int = 1000, concurrency: int = 32, rounds: int = 2) -> dict:
    totals = {
        name: {"accepted": 0, "wall_s": 0.0, "latencies": [], "statuses": {}}
        for name in ("bare", "twilio", "telnyx")
    }
    with bench_environment(["ingest"]) as environment:
        ingest = environment.url("ingest")
        bare_process, bare_url = start_server(
            "ingest_bare_server.py", "ingest-bare", environment.env, environment.log_dir
        )
        try:
            warm = twilio_requests(ingest, 50, "warmup")
            for batch in (warm, bare_requests(bare_url, warm), telnyx_requests(ingest, 50, "warmup")):
                asyncio.run(post_all(batch, 8))
            for round_no in range(rounds):
                twilio = twilio_requests(ingest, count, f"r{round_no}")
                batches = {
                    "bare": bare_requests(bare_url, twilio),
                    "twilio": twilio,
                    "telnyx": telnyx_requests(ingest, count, f"r{round_no}"),
                }
                for name, batch in batches.items():
                    print(
                        f"[round {round_no + 1}/{rounds}] {name}: {count} posts at concurrency {concurrency}",
                        flush=True,
                    )
                    outcome = asyncio.run(post_all(batch, concurrency))
                    total = totals[name]
                    total["accepted"] += outcome["accepted"]
                    total["wall_s"] += outcome["wall_s"]
                    total["latencies"] += outcome["latencies"]
                    for key, value in outcome["statuses"].items():
                        total["statuses"][key] = total["statuses"].get(key, 0) + value
        finally:
            bare_process.terminate()
            bare_process.wait(20)
    result = {"count": count, "concurrency": concurrency, "rounds": rounds}
    for name, total in totals.items():
        lat = total["latencies"]
        result[name] = {
            "accepted": total["accepted"],
            "statuses": total["statuses"],
            "per_s": total["accepted"] / total["wall_s"] if total["wall_s"] else 0.0,
            "p50_ms": percentile(lat, 50) * 1000 if lat else None,
            "p99_ms": percentile(lat, 99) * 1000 if lat else None,
        }
    for name in ("twilio", "telnyx"):
        result[name]["ratio_to_bare"] = (
            result[name]["per_s"] / result["bare"]["per_s"] if result["bare"]["per_s"] else 0.0
        )
    report(result)
    return result


def report(result: dict) -> None:
    print()
    print(
        f"== ingest checks vs bare endpoint, same stack, same run ({result['rounds']} rounds x "
        f"{result['count']} posts, concurrency {result['concurrency']}, client on the same 2-core host) =="
    )
    for name, label in (
        ("bare", "bare endpoint"),
        ("twilio", "Twilio inbound"),
        ("telnyx", "Telnyx inbound"),
    ):
        row = result[name]
        ratio = f"  ratio to bare {row['ratio_to_bare']:.3f}" if "ratio_to_bare" in row else ""
        print(
            f"  {label:<15} {row['per_s']:8.1f} accepted/s   p50 {row['p50_ms']:.1f} ms  "
            f"p99 {row['p99_ms']:.1f} ms{ratio}   {row['statuses']}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", "--requests", type=int, default=1000, help="posts per kind per round")
    parser.add_argument("-c", "--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    run(args.requests, args.concurrency, args.rounds)


if __name__ == "__main__":
    main()
