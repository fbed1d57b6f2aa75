"""Issue 21: what catch-up costs. ingest's catch-up use case in-process (the real code, the real
PostgreSQL and Kafka of an isolated environment, bench/environment.py) against the carrier
simulator's read APIs in the same process (httpx ASGI transport: no network in the figures, the
simulator's own work is in them).

1. Time to catch up N missed texts on one number, per carrier (Twilio: Messages.json pages of
   1,000; Telnyx: detail records pages of 250 + one GET /v2/messages/{id} per text), next to the
   baseline: the same N carrier.inbound.v1 events published straight to Kafka in batches of 500
   (the floor any path has to pay). Ratio = catch-up / baseline.
2. An idle cycle per dealership number: K numbers with nothing new, one cycle; next to the
   baseline of the same K numbers doing the bare minimum a cycle must (one list request to the
   simulator and one PostgreSQL round trip each, 8 at a time like the cycle). Also a number whose
   overlap window (5 min) still holds M texts, the cost the overlap adds.

    .venv/bin/python bench/ingest_catch_up.py [-n 10000] [-k 200] [-m 100]
"""

import argparse
import asyncio
import dataclasses
import time
import uuid

import httpx
from environment import bench_environment
from sqlalchemy import text

from devtools import demo
from devtools.carrier_simulator import store
from devtools.carrier_simulator.__main__ import create_app as create_simulator
from devtools.carrier_simulator.inbound import _twilio_record
from devtools.carrier_simulator.send_api import SimulatorConfig, SimulatorState
from devtools.carrier_simulator.telnyx import received_event
from devtools.carrier_simulator.twilio import inbound_sms_form
from ingest import catch_up_repository as repo
from ingest.app import create_app
from ingest.carriers.apis import CarrierApis
from ingest.settings import IngestSettings
from ingest.usecases.catch_up import run_inbound_cycle
from shared.contracts.carrier import CarrierInbound
from shared.contracts.topics import CARRIER_INBOUND

SIM = "http://simulator.bench"


def missed_twilio(state: SimulatorState, count: int, to_number: str, tag: str) -> None:
    for index in range(count):
        form = inbound_sms_form(demo.TWILIO_ACCOUNT_SID, f"+1438{index:07d}", to_number, f"{tag} {index}")
        state.twilio_messages.setdefault(demo.TWILIO_ACCOUNT_SID, []).append(
            _twilio_record(demo.TWILIO_ACCOUNT_SID, form, [])
        )


def missed_telnyx(state: SimulatorState, count: int, to_number: str, tag: str) -> None:
    for index in range(count):
        payload = received_event(f"+1438{index:07d}", to_number, f"{tag} {index}")["data"]["payload"]
        state.telnyx_messages[payload["id"]] = store.received(dict(payload))


async def make_due(deps, numbers: list[str]) -> None:
    async with deps.sessions.begin() as session:
        await session.execute(
            text("UPDATE ingest.catch_up_numbers SET next_run_at = now() + interval '1 hour'")
        )
        await session.execute(
            text("UPDATE ingest.catch_up_numbers SET next_run_at = now() WHERE e164 = ANY(:n)"),
            {"n": numbers},
        )


async def baseline_publish(deps, count: int) -> float:
    events = [
        CarrierInbound(
            account_id=demo.ACCOUNT_ID,
            carrier="twilio",
            carrier_message_id=f"SMbase{uuid.uuid4().hex}",
            from_number=f"+1438{index:07d}",
            to_number="+15145559999",  # nobody consumes in this run
            body=f"baseline {index}",
            received_at=time.time(),
        )
        for index in range(count)
    ]
    started = time.perf_counter()
    for start in range(0, count, 500):
        await deps.publisher.publish_in_order(
            [(CARRIER_INBOUND, e.to_bytes(), e.partition_key, {}) for e in events[start : start + 500]]
        )
    return time.perf_counter() - started


async def baseline_idle(deps, client: httpx.AsyncClient, numbers: list[str]) -> float:
    gate = asyncio.Semaphore(8)

    async def one(number: str) -> None:
        async with gate:
            await client.get(
                f"/2010-04-01/Accounts/{demo.TWILIO_ACCOUNT_SID}/Messages.json",
                params={"To": number, "PageSize": 1000, "DateSent>": "2000-01-01T00:00:00Z"},
                auth=(demo.TWILIO_ACCOUNT_SID, demo.TWILIO_AUTH_TOKEN),
            )
            async with deps.sessions() as session:
                await session.execute(text("SELECT 1"))

    started = time.perf_counter()
    await asyncio.gather(*(one(n) for n in numbers))
    return time.perf_counter() - started


async def cycle(deps, numbers: list[str]) -> tuple[float, int]:
    await make_due(deps, numbers)
    started = time.perf_counter()
    report = await run_inbound_cycle(deps)
    elapsed = time.perf_counter() - started
    assert not [n for n in report.numbers if n.error], [n.error for n in report.numbers if n.error]
    return elapsed, sum(n.recovered for n in report.numbers)


async def measure(env, count: int, idle_numbers: int, overlap_texts: int) -> dict:
    settings = IngestSettings(
        database_url=env.database_url,
        kafka_bootstrap_servers=env.kafka_bootstrap,
        kafka_topic_prefix=env.topic_prefix,
        log_level="WARNING",
        catch_up_enabled=False,
        catch_up_page_size=1000,
        catch_up_numbers_per_cycle=100_000,
    )
    app = create_app(settings)
    state = SimulatorState(SimulatorConfig(callbacks_enabled=False))
    simulator = create_simulator("http://127.0.0.1:9", state)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=simulator), base_url=SIM, timeout=60) as client,
    ):
        deps = dataclasses.replace(app.state.catch_up, apis=CarrierApis(client, SIM, SIM))
        missed_twilio(state, count, demo.DEALERSHIP_NUMBER, "missed")
        missed_telnyx(state, count, demo.TELNYX_NUMBER, "missed")
        floor = await baseline_publish(deps, count)
        figures: dict = {"count": count, "baseline_s": floor}
        print(f"baseline: {count} events published to Kafka in batches of 500: {floor:.2f} s")
        for carrier, number in (("twilio", demo.DEALERSHIP_NUMBER), ("telnyx", demo.TELNYX_NUMBER)):
            elapsed, recovered = await cycle(deps, [number])
            assert recovered == count, (carrier, recovered)
            figures[f"{carrier}_s"] = elapsed
            print(
                f"catch-up {carrier}: {recovered} texts in {elapsed:.2f} s"
                f" ({recovered / elapsed:,.0f} texts/s), {elapsed / floor:.1f}x the baseline"
            )

        # Ending in 99: no number the simulator treats specially (failures.py).
        idle = [f"+1873{index:05d}99" for index in range(idle_numbers)]
        async with deps.sessions.begin() as session:
            for number in idle:
                await repo.register_number(session, demo.ACCOUNT_ID, number, "twilio")
        await cycle(deps, idle)  # first listing of each (checkpoint set)
        base = await baseline_idle(deps, client, idle)
        elapsed, _ = await cycle(deps, idle)
        per, base_per = elapsed / idle_numbers * 1000, base / idle_numbers * 1000
        figures |= {"idle_ms_per_number": per, "idle_baseline_ms_per_number": base_per}
        print(
            f"idle cycle: {idle_numbers} numbers in {elapsed * 1000:.0f} ms = {per:.2f} ms per number;"
            f" baseline {base_per:.2f} ms per number; {per / base_per:.1f}x"
        )
        busy = "+15145550188"
        async with deps.sessions.begin() as session:
            await repo.register_number(session, demo.ACCOUNT_ID, busy, "twilio")
        missed_twilio(state, overlap_texts, busy, "overlap")
        await cycle(deps, [busy])
        again, recovered = await cycle(deps, [busy])
        print(
            f"idle cycle of a number with {overlap_texts} texts still in its overlap window:"
            f" {again * 1000:.1f} ms ({recovered} published again)"
        )
    return figures


def run(count: int = 10_000, idle_numbers: int = 200, overlap_texts: int = 100) -> dict:
    with bench_environment(["ingest"], {"CATCH_UP_ENABLED": "false"}) as env:
        return asyncio.run(measure(env, count, idle_numbers, overlap_texts))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=10_000, help="missed texts per carrier")
    parser.add_argument("-k", type=int, default=200, help="idle numbers")
    parser.add_argument("-m", type=int, default=100, help="texts in the overlap window of one number")
    args = parser.parse_args()
    run(args.n, args.k, args.m)


if __name__ == "__main__":
    main()
