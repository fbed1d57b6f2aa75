"""Nothing a customer texts is lost while ingest is down (issue 21), through real processes: the
carrier simulator (Twilio posts an inbound webhook once, Telnyx retries for seconds), ingest,
routing and notifier, on a database and topic prefix of their own.

With ingest stopped, customers text both dealership numbers and staff replies go out (their status
callbacks find nobody); ingest is started again and, within BOUND_SECONDS, every text is in its
conversation exactly once at the time the customer sent it, staff are notified of it, and every
reply shows its final status, all from the carriers' APIs (catch-up)."""

import asyncio
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest

from devtools import demo
from devtools.migrate import migrate_all
from devtools.processes import start_services, stop_services
from devtools.seed import seed_demo
from shared.testing.infrastructure import ROOT, dsn, fresh_database
from shared.testing.ports import free_ports_for
from tests.e2e.clients import login

pytestmark = pytest.mark.e2e

# From ingest's start to the last text and status in routing.
BOUND_SECONDS = 20.0
PER_CARRIER = 8


def _prepare(url: str) -> None:
    migrate_all(url)
    asyncio.run(seed_demo(url))


@pytest.fixture(scope="module")
def stack(kafka_bootstrap, topic_prefix, tmp_path_factory):
    ports = free_ports_for(["ingest", "routing", "notifier", "simulator"])
    logs = Path(tmp_path_factory.mktemp("catch-up-logs"))
    simulator_url = f"http://127.0.0.1:{ports['simulator']}"
    simulator = subprocess.Popen(
        [
            *(sys.executable, "-m", "devtools.carrier_simulator", "serve", "--port", str(ports["simulator"])),
            *("--ingest-url", f"http://127.0.0.1:{ports['ingest']}", "--callback-delay", "0.2"),
        ],
        cwd=ROOT,
        stdout=(logs / "simulator.log").open("ab"),
        stderr=subprocess.STDOUT,
    )
    with fresh_database("sbcatchup", _prepare) as database_url:
        env = {
            "DATABASE_URL": database_url,
            "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "KAFKA_TOPIC_PREFIX": f"c{topic_prefix}",
            "KAFKA_PARTITIONS": "2",
            "KAFKA_PUBLISH_TIMEOUT_SECONDS": "3",
            "LOG_LEVEL": "INFO",
            "SHUTDOWN_GRACE_SECONDS": "3",
            "TWILIO_API_BASE_URL": simulator_url,
            "TELNYX_API_BASE_URL": simulator_url,
            "CARRIER_CALLBACK_BASE_URL": f"http://127.0.0.1:{ports['ingest']}",
            # Short, so the test is fast; production lists every minute.
            "CATCH_UP_INTERVAL_SECONDS": "1",
            "CATCH_UP_BACKOFF_INITIAL_SECONDS": "1",
            "OUTBOUND_STATUS_AFTER_SECONDS": "1",
        }
        service_ports = {name: ports[name] for name in ("ingest", "routing", "notifier")}
        services = start_services(env, logs, service_ports, ["ingest", "routing", "notifier"])
        try:
            yield services, simulator_url, database_url
        finally:
            stop_services(services)
            simulator.terminate()
            simulator.wait(10)


async def _wait(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        found = await check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        await asyncio.sleep(0.2)


async def test_texts_and_statuses_missed_while_ingest_was_down_arrive_once_when_it_is_back(stack):
    services, simulator_url, database_url = stack
    ingest, routing = services["ingest"], services["routing"]
    db = await asyncpg.connect(dsn(database_url))
    http = httpx.AsyncClient(timeout=15)
    try:
        token = await login(http, routing.url, demo.ADMIN_EMAIL, demo.PASSWORD)
        staff = {"authorization": f"Bearer {token}"}

        async def conversation_of(message_id: str):
            return await db.fetchval(
                "SELECT conversation_id FROM routing.messages WHERE carrier_message_id = $1", message_id
            )

        # Two customers already talking, one per dealership number (ingest up).
        talking = {}
        for carrier, path, number in (
            ("twilio", "sms", demo.DEALERSHIP_NUMBER),
            ("telnyx", "telnyx", demo.TELNYX_NUMBER),
        ):
            phone = f"+1438555{'01' if carrier == 'twilio' else '02'}{time.time_ns() % 100:02d}"
            sent = (
                await http.post(
                    f"{simulator_url}/simulate/{path}", json={"from": phone, "to": number, "body": "hi"}
                )
            ).json()
            assert sent["ingest_status"] == 200
            talking[carrier] = await _wait(
                lambda s=sent: conversation_of(s.get("message_sid") or s["message_id"]), 15, "first texts"
            )

        await asyncio.to_thread(ingest.stop)
        stopped_at = datetime.now(UTC)
        missed: list[str] = []
        for n in range(PER_CARRIER):
            for path, number in (("sms", demo.DEALERSHIP_NUMBER), ("telnyx", demo.TELNYX_NUMBER)):
                answer = (
                    await http.post(
                        f"{simulator_url}/simulate/{path}",
                        json={
                            "from": f"+1438666{n:02d}{'11' if path == 'sms' else '22'}",
                            "to": number,
                            "body": f"while down {n}",
                        },
                    )
                ).json()
                assert answer["ingest_status"] is None
                missed.append(answer.get("message_sid") or answer["message_id"])
        replies = []
        for conversation_id in talking.values():
            reply = await http.post(
                f"{routing.url}/api/v1/conversations/{conversation_id}/messages",
                json={"body": "Your car is ready"},
                headers=staff,
            )
            assert reply.status_code == 201, reply.text
            replies.append(reply.json()["message"]["id"])
        await asyncio.sleep(4)  # Telnyx's retries and the replies' callbacks all fail meanwhile

        back = time.monotonic()  # the bound counts ingest's own start-up
        await asyncio.to_thread(ingest.start)
        await asyncio.to_thread(ingest.wait_ready)

        async def all_texts_stored():
            rows = await db.fetch(
                "SELECT carrier_message_id, count(*) AS n, min(created_at) AS at FROM routing.messages"
                " WHERE carrier_message_id = ANY($1) GROUP BY carrier_message_id",
                missed,
            )
            return rows if len(rows) == len(missed) else None

        rows = await _wait(all_texts_stored, BOUND_SECONDS, "every missed text in its conversation")

        async def all_replies_final():
            statuses = await db.fetch(
                "SELECT status FROM routing.messages WHERE id = ANY($1::uuid[])", replies
            )
            return statuses if all(r["status"] == "delivered" for r in statuses) else None

        await _wait(all_replies_final, BOUND_SECONDS - (time.monotonic() - back), "every reply delivered")
        took = time.monotonic() - back
        await asyncio.sleep(2)  # further cycles change nothing
        rows = await all_texts_stored()
        assert all(r["n"] == 1 for r in rows), "a text stored twice"
        # Each text keeps the time the customer sent it, before ingest was back.
        assert all(
            r["at"] <= datetime.now(UTC) and r["at"] >= stopped_at.replace(microsecond=0) for r in rows
        )
        notified = await db.fetchval(
            "SELECT count(DISTINCT m.id) FROM notifier.notifications n JOIN routing.messages m"
            " ON n.data->>'message_id' = m.id::text WHERE m.carrier_message_id = ANY($1)",
            missed,
        )
        assert notified == len(missed), "staff are told of a recovered text as of any new one"
        print(
            f"caught up {len(missed)} texts, {len(replies)} statuses in {took:.1f}s (bound {BOUND_SECONDS}s)"
        )
    finally:
        await http.aclose()
        await db.close()
