"""Bad events go to the dead-letter topic with the reason and the consumer goes on; a restarted
routing picks up where it stopped and its outbox relay delivers what was pending."""

import asyncio
import json
import uuid

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from devtools import demo
from devtools.carrier_simulator.twilio import inbound_sms_form, post_inbound
from shared.testing.infrastructure import dsn

pytestmark = pytest.mark.e2e


async def _dead_letters(bootstrap: str, topic: str, wanted: set[bytes], timeout: float = 30.0) -> dict:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=f"t-{uuid.uuid4()}"
    )
    await consumer.start()
    found: dict[bytes, dict[str, str]] = {}
    try:
        async with asyncio.timeout(timeout):
            while not wanted <= set(found):
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    for record in records:
                        if record.value in wanted:
                            found[record.value] = {k: v.decode() for k, v in record.headers}
    except TimeoutError:
        pass
    finally:
        await consumer.stop()
    return found


async def test_unusable_events_are_dead_lettered_with_reason_and_consumer_goes_on(
    services, kafka_bootstrap, topic_prefix, database_url
):
    not_json = b"{this is not json"
    wrong_shape = json.dumps({"event_id": str(uuid.uuid4()), "hello": "world"}).encode()
    unknown_number = json.dumps(
        {
            "account_id": str(demo.ACCOUNT_ID),
            "carrier": "twilio",
            "carrier_message_id": f"SM{uuid.uuid4().hex}",
            "from_number": "+15145557777",
            "to_number": "+15145559999",
            "body": "to a number we do not own",
            "received_at": "2026-11-25T10:00:00Z",
        }
    ).encode()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for value in (not_json, wrong_shape, unknown_number):
            await producer.send_and_wait(f"{topic_prefix}carrier.inbound.v1", value, key=b"k")
    finally:
        await producer.stop()

    found = await _dead_letters(
        kafka_bootstrap, f"{topic_prefix}carrier.inbound.v1.dlq", {not_json, wrong_shape, unknown_number}
    )
    assert set(found) == {not_json, wrong_shape, unknown_number}
    assert found[not_json]["x-dead-letter-error"] == "ValidationError"
    assert "not a number of account" in found[unknown_number]["x-dead-letter-reason"]
    assert found[wrong_shape]["x-original-topic"] == f"{topic_prefix}carrier.inbound.v1"

    # The consumer is still consuming.
    form = inbound_sms_form(demo.TWILIO_ACCOUNT_SID, "+15145550042", demo.DEALERSHIP_NUMBER, "after bad ones")
    async with httpx.AsyncClient(timeout=15) as client:
        assert (
            await post_inbound(client, services["ingest"].url, demo.TWILIO_AUTH_TOKEN, form)
        ).status_code == 200
    connection = await asyncpg.connect(dsn(database_url))
    try:
        for _ in range(100):
            if await connection.fetchval(
                "SELECT count(*) FROM routing.messages WHERE carrier_message_id = $1", form["MessageSid"]
            ):
                break
            await asyncio.sleep(0.2)
        else:
            pytest.fail("routing stopped consuming after dead-lettering")
    finally:
        await connection.close()


async def test_restarted_routing_resumes_and_relays_its_outbox(services, database_url):
    routing = services["routing"]
    await asyncio.to_thread(routing.stop)
    # uvicorn re-raises SIGTERM after its graceful shutdown, so the log tells whether it was clean.
    last_lines = routing.log_path.read_text().splitlines()[-5:]
    assert any('"service stopped"' in line for line in last_lines), last_lines
    form = inbound_sms_form(
        demo.TWILIO_ACCOUNT_SID, "+15145550043", demo.DEALERSHIP_NUMBER, "while routing is down"
    )
    async with httpx.AsyncClient(timeout=15) as client:
        accepted = await post_inbound(client, services["ingest"].url, demo.TWILIO_AUTH_TOKEN, form)
    assert accepted.status_code == 200
    await asyncio.to_thread(routing.start)
    await asyncio.to_thread(routing.wait_ready)

    connection = await asyncpg.connect(dsn(database_url))
    try:
        for _ in range(150):
            notified = await connection.fetchval(
                "SELECT count(*) FROM notifier.notifications n JOIN routing.messages m"
                " ON n.data->>'message_id' = m.id::text WHERE m.carrier_message_id = $1",
                form["MessageSid"],
            )
            if notified:
                break
            await asyncio.sleep(0.2)
        pending = await connection.fetchval("SELECT count(*) FROM routing.outbox WHERE published_at IS NULL")
    finally:
        await connection.close()
    assert notified >= 1, "the message stored after the restart never reached notifier"
    assert pending == 0
