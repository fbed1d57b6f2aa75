"""Outbound texts through real processes: a request on `sms.outbound_requested.v1` → notifier →
the carrier simulator (Twilio and Telnyx APIs) → `sms.outbound_status.v1`; then the simulator's
signed status callbacks → ingest → `carrier.status.v1`. Its own topic prefix, so the notifier of
the other end-to-end tests (which talks to the real carriers' URLs) never sees these requests."""

import asyncio
import json
import secrets
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from devtools import demo
from devtools.processes import start_services, stop_services
from shared.contracts.messaging import OutboundRequested
from shared.testing.ports import free_port
from shared.testing.topic_prefixes import new_topic_prefix
from tests.conftest import ROOT

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def outbound_prefix() -> str:
    return new_topic_prefix("o")


@pytest.fixture(scope="module")
def simulator(tmp_path_factory: pytest.TempPathFactory):
    """The simulator as its own process; its callbacks go to the ingest started below."""
    port, ingest_port = free_port(), free_port()
    log = (Path(tmp_path_factory.mktemp("simulator")) / "simulator.log").open("ab")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "devtools.carrier_simulator",
            "serve",
            "--port",
            str(port),
            "--ingest-url",
            f"http://127.0.0.1:{ingest_port}",
            "--callback-delay",
            "0.2",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{url}/simulate/sent", timeout=1).raise_for_status()
            break
        except httpx.HTTPError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise
            time.sleep(0.1)
    yield url, ingest_port
    process.terminate()
    process.wait(10)


@pytest.fixture(scope="module")
def outbound_services(service_env, outbound_prefix, simulator, tmp_path_factory):
    simulator_url, ingest_port = simulator
    env = {
        **service_env,
        "KAFKA_TOPIC_PREFIX": outbound_prefix,
        "TWILIO_API_BASE_URL": simulator_url,
        "TELNYX_API_BASE_URL": simulator_url,
        "CARRIER_CALLBACK_BASE_URL": f"http://127.0.0.1:{ingest_port}",
        "OUTBOUND_RETRY_INITIAL_SECONDS": "0.05",
    }
    log_dir = Path(tmp_path_factory.mktemp("outbound-logs"))
    started = start_services(
        env, log_dir, {"ingest": ingest_port, "notifier": free_port()}, ["ingest", "notifier"]
    )
    yield started
    stop_services(started)


class Topics:
    """Collects sms.outbound_status.v1 and carrier.status.v1 under this module's prefix."""

    def __init__(self, bootstrap: str, prefix: str) -> None:
        self.prefix = prefix
        self.consumer = AIOKafkaConsumer(
            f"{prefix}sms.outbound_status.v1",
            f"{prefix}carrier.status.v1",
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
        )
        self.events: list[tuple[str, dict]] = []
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        await self.consumer.start()

        async def collect() -> None:
            async for record in self.consumer:
                self.events.append((record.topic.removeprefix(self.prefix), json.loads(record.value)))

        self._task = asyncio.create_task(collect())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
        await self.consumer.stop()

    async def wait_for(self, topic: str, predicate, timeout: float = 30.0) -> dict:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            for name, event in self.events:
                if name == topic and predicate(event):
                    return event
            await asyncio.sleep(0.1)
        raise AssertionError(f"nothing on {topic} matched; saw {len(self.events)} events")


@pytest.fixture(scope="module")
async def topics(outbound_services, kafka_bootstrap, outbound_prefix):
    watcher = Topics(kafka_bootstrap, outbound_prefix)
    await watcher.start()
    yield watcher
    await watcher.stop()


async def _request(kafka_bootstrap: str, prefix: str, event: OutboundRequested, times: int = 1) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for _ in range(times):
            await producer.send_and_wait(
                f"{prefix}sms.outbound_requested.v1", event.to_bytes(), key=event.partition_key.encode()
            )
    finally:
        await producer.stop()


def _outbound(carrier: str, to_suffix: str | None = None) -> OutboundRequested:
    tail = to_suffix or f"{secrets.randbelow(8000) + 2000}"
    return OutboundRequested(
        account_id=demo.ACCOUNT_ID,
        message_id=uuid.uuid4(),
        conversation_id=uuid.uuid4(),
        customer_id=uuid.uuid4(),
        carrier=carrier,
        from_number=demo.DEALERSHIP_NUMBER if carrier == "twilio" else demo.TELNYX_NUMBER,
        to_number=f"+1438{secrets.randbelow(800) + 200}{tail}",
        body="Your car is ready",
        source_kind="manual",
    )


@pytest.mark.parametrize("carrier", ["twilio", "telnyx"])
async def test_outbound_text_is_sent_and_its_signed_receipts_come_back_through_ingest(
    topics, kafka_bootstrap, outbound_prefix, simulator, carrier
):
    event = _outbound(carrier)
    # Delivered twice by Kafka: one text all the same.
    await _request(kafka_bootstrap, outbound_prefix, event, times=2)

    sent = await topics.wait_for(
        "sms.outbound_status.v1", lambda e: e["message_id"] == str(event.message_id) and e["status"] == "sent"
    )
    carrier_id = sent["carrier_message_id"]
    delivered = await topics.wait_for(
        "carrier.status.v1", lambda e: e["carrier_message_id"] == carrier_id and e["status"] == "delivered"
    )
    assert delivered["carrier"] == carrier and delivered["account_id"] == str(demo.ACCOUNT_ID)

    async with httpx.AsyncClient() as client:
        received = (await client.get(f"{simulator[0]}/simulate/sent", params={"to": event.to_number})).json()
    assert [r["id"] for r in received] == [carrier_id]


async def test_outbound_failures_come_back_with_the_carriers_code(topics, kafka_bootstrap, outbound_prefix):
    landline = _outbound("twilio", "0001")  # refused at send time
    unreachable = _outbound("twilio", "0003")  # accepted, then undelivered
    await _request(kafka_bootstrap, outbound_prefix, landline)
    await _request(kafka_bootstrap, outbound_prefix, unreachable)

    failed = await topics.wait_for(
        "sms.outbound_status.v1",
        lambda e: e["message_id"] == str(landline.message_id) and e["status"] == "failed",
    )
    assert (failed["error_category"], failed["error_code"]) == ("landline", "21614")

    sent = await topics.wait_for(
        "sms.outbound_status.v1",
        lambda e: e["message_id"] == str(unreachable.message_id) and e["status"] == "sent",
    )
    undelivered = await topics.wait_for(
        "carrier.status.v1",
        lambda e: e["carrier_message_id"] == sent["carrier_message_id"] and e["status"] == "undelivered",
    )
    assert undelivered["error_code"] == "30003"
