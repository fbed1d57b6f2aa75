"""One real message travels the whole way: Twilio webhook → ingest → Kafka → routing →
outbox → Kafka → notifier (SSE) and search, with every service a real process."""

import asyncio
import json
import subprocess
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest

from devtools import demo
from devtools.carrier_simulator.twilio import inbound_sms_form, post_inbound, sign
from shared.testing.infrastructure import dsn
from shared.testing.waiting import eventually
from tests.conftest import ROOT, kafka_is_ours
from tests.e2e.clients import SseStream, login

pytestmark = pytest.mark.e2e


def _new_customer_number() -> str:
    return f"+1514555{uuid.uuid4().int % 10_000:04d}"


async def _count(database_url: str, sql: str, *args) -> int:
    connection = await asyncpg.connect(dsn(database_url))
    try:
        return await connection.fetchval(sql, *args)
    finally:
        await connection.close()


async def _stored_messages(database_url: str, carrier_message_id: str) -> int:
    return await _count(
        database_url,
        "SELECT count(*) FROM routing.messages WHERE carrier_message_id = $1",
        carrier_message_id,
    )


async def test_inbound_sms_reaches_stream_inbox_and_search(services, database_url):
    ingest, routing, notifier, search = (services[n].url for n in ("ingest", "routing", "notifier", "search"))
    async with httpx.AsyncClient(timeout=15) as client:
        token = await login(client, routing, demo.ADMIN_EMAIL, demo.PASSWORD)
        stream = SseStream(f"{notifier}/api/v1/notifications/stream", token)
        async with stream.open():
            form = inbound_sms_form(
                demo.TWILIO_ACCOUNT_SID,
                _new_customer_number(),
                demo.DEALERSHIP_NUMBER,
                "Bonjour, is my Civic ready? 🚗",
                media=[
                    (
                        "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1/invoice.pdf",
                        "application/pdf",
                    )
                ],
            )
            response = await post_inbound(client, ingest, demo.TWILIO_AUTH_TOKEN, form)
            assert response.status_code == 200, response.text
            assert response.headers["x-switchboard-outcome"] == "accepted"

            event = await stream.wait_for(lambda e: e.data["body"].startswith("Bonjour"))
            assert event.event == "message_received"
            conversation_id = event.data["data"]["conversation_id"]

        headers = {"authorization": f"Bearer {token}"}
        conversations = (await client.get(f"{routing}/api/v1/conversations", headers=headers)).json()["items"]
        mine = next(c for c in conversations if c["id"] == conversation_id)
        assert mine["customer_phone"] == form["From"]
        assert mine["status"] == "open"
        messages = (
            await client.get(f"{routing}/api/v1/conversations/{conversation_id}/messages", headers=headers)
        ).json()
        assert [m["body"] for m in messages] == ["Bonjour, is my Civic ready? 🚗"]
        assert messages[0]["attachments"][0]["file_name"] == "invoice.pdf"
        assert messages[0]["direction"] == "inbound"

        async def found_in_search() -> int:
            result = await client.get(f"{search}/api/v1/search", params={"q": "Civic"}, headers=headers)
            matches = [m for r in result.json()["results"] for m in r["matches"] if m["kind"] == "message"]
            return sum(1 for m in matches if m["conversation_id"] == conversation_id)

        assert await eventually(found_in_search) == 1


async def test_one_inbound_sms_is_one_trace_across_services(services, database_url):
    ingest = services["ingest"].url
    form = inbound_sms_form(
        demo.TWILIO_ACCOUNT_SID, _new_customer_number(), demo.DEALERSHIP_NUMBER, "trace me"
    )
    async with httpx.AsyncClient(timeout=15) as client:
        assert (await post_inbound(client, ingest, demo.TWILIO_AUTH_TOKEN, form)).status_code == 200

    def trace_ids(service: str, marker: str) -> set[str]:
        found = set()
        for line in services[service].log_path.read_text().splitlines():
            if marker in line:
                record = json.loads(line)
                if "trace_id" in record:
                    found.add(record["trace_id"])
        return found

    async def ingest_trace() -> int:
        return len(trace_ids("ingest", form["MessageSid"]))

    assert await eventually(ingest_trace) == 1
    (trace_id,) = trace_ids("ingest", form["MessageSid"])

    async def seen_downstream() -> bool:
        routing_traces = trace_ids("routing", "inbound message stored")
        notifier_traces = trace_ids("notifier", "notifications stored")
        return trace_id in routing_traces and trace_id in notifier_traces

    assert await eventually(seen_downstream), "the trace id did not reach routing and notifier"


async def test_forged_or_missing_signature_is_refused_and_nothing_stored(services, database_url):
    ingest = services["ingest"].url
    url = f"{ingest}/webhooks/twilio/sms"
    async with httpx.AsyncClient(timeout=15) as client:
        forged = inbound_sms_form(
            demo.TWILIO_ACCOUNT_SID, _new_customer_number(), demo.DEALERSHIP_NUMBER, "forged"
        )
        wrong_key = await client.post(
            url, data=forged, headers={"X-Twilio-Signature": sign("not-the-token", url, forged)}
        )
        missing = await client.post(url, data=forged)
        tampered_form = {**forged, "Body": "changed after signing"}
        tampered = await client.post(
            url,
            data=tampered_form,
            headers={"X-Twilio-Signature": sign(demo.TWILIO_AUTH_TOKEN, url, forged)},
        )
    assert [wrong_key.status_code, missing.status_code, tampered.status_code] == [403, 403, 403]
    assert wrong_key.json()["error"]["code"] == "invalid_signature"
    await asyncio.sleep(2)
    assert await _stored_messages(database_url, forged["MessageSid"]) == 0
    assert (
        await _count(
            database_url,
            "SELECT count(*) FROM ingest.received_webhooks WHERE dedupe_key = $1",
            forged["MessageSid"],
        )
        == 0
    )


async def test_the_same_webhook_twice_is_stored_once(services, database_url):
    ingest = services["ingest"].url
    form = inbound_sms_form(demo.TWILIO_ACCOUNT_SID, _new_customer_number(), demo.DEALERSHIP_NUMBER, "twice")
    async with httpx.AsyncClient(timeout=15) as client:
        first = await post_inbound(client, ingest, demo.TWILIO_AUTH_TOKEN, form)
        second = await post_inbound(client, ingest, demo.TWILIO_AUTH_TOKEN, form)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.headers["x-switchboard-outcome"] == "duplicate"
    assert await eventually(lambda: _stored_messages(database_url, form["MessageSid"])) == 1
    await asyncio.sleep(1.5)
    assert await _stored_messages(database_url, form["MessageSid"]) == 1


async def test_malformed_bodies_get_clear_4xx_and_service_keeps_serving(services):
    ingest = services["ingest"].url
    url = f"{ingest}/webhooks/twilio/sms"
    async with httpx.AsyncClient(timeout=15) as client:
        as_json = await client.post(url, json={"From": "+15145551234"})
        oversize = await client.post(
            url,
            content=b"Body=" + b"x" * 200_000,
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        not_utf8 = await client.post(
            url,
            content=b"\xff\xfe\x00Body",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        unusable = {"AccountSid": demo.TWILIO_ACCOUNT_SID, "Body": "no sid, no numbers"}
        authentic_but_unusable = await client.post(
            url,
            data=unusable,
            headers={"X-Twilio-Signature": sign(demo.TWILIO_AUTH_TOKEN, url, unusable)},
        )
        health = await client.get(f"{ingest}/healthz")
    assert as_json.status_code == 415
    assert oversize.status_code == 413
    assert not_utf8.status_code in (400, 403)
    assert authentic_but_unusable.status_code == 400
    assert "MessageSid" in authentic_but_unusable.json()["error"]["message"]
    assert health.status_code == 200


@pytest.mark.skipif(not kafka_is_ours(), reason="needs the Kafka that infra/kafka.sh runs")
async def test_kafka_down_gives_503_and_the_retry_is_stored_once(services, database_url):
    ingest = services["ingest"].url
    form = inbound_sms_form(
        demo.TWILIO_ACCOUNT_SID, _new_customer_number(), demo.DEALERSHIP_NUMBER, "while down"
    )
    kafka = [str(Path(ROOT) / "infra/kafka.sh")]
    await asyncio.to_thread(subprocess.run, ["bash", *kafka, "stop"], check=True)
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            during_outage = await post_inbound(client, ingest, demo.TWILIO_AUTH_TOKEN, form)
    finally:
        await asyncio.to_thread(subprocess.run, ["bash", *kafka, "start"], check=True)
    assert during_outage.status_code == 503
    assert during_outage.json()["error"]["code"] == "unavailable"

    # The carrier retries until it gets a 2xx.
    async with httpx.AsyncClient(timeout=30) as client:
        for _ in range(30):
            retry = await post_inbound(client, ingest, demo.TWILIO_AUTH_TOKEN, form)
            if retry.status_code == 200:
                break
            await asyncio.sleep(1)
    assert retry.status_code == 200
    assert retry.headers["x-switchboard-outcome"] == "accepted"
    assert await eventually(lambda: _stored_messages(database_url, form["MessageSid"]), timeout=60) == 1
    await asyncio.sleep(2)
    assert await _stored_messages(database_url, form["MessageSid"]) == 1
