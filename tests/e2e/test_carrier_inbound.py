"""Carrier webhooks through the whole inbound path with every service a real process: Telnyx and
Twilio payloads signed by independent code → ingest → Kafka → routing → PostgreSQL, including a
customer's STOP and START."""

import asyncio
import uuid

import asyncpg
import httpx
import pytest

from devtools import demo
from devtools.carrier_simulator.telnyx import post_event, received_event
from devtools.carrier_simulator.twilio import inbound_sms_form, post_inbound
from shared.testing.infrastructure import dsn

pytestmark = pytest.mark.e2e


def _customer() -> str:
    return f"+1438555{uuid.uuid4().int % 10_000:04d}"


async def _fetch(database_url: str, sql: str, *args):
    connection = await asyncpg.connect(dsn(database_url))
    try:
        return await connection.fetch(sql, *args)
    finally:
        await connection.close()


async def _eventually(database_url: str, sql: str, *args, timeout: float = 20.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        rows = await _fetch(database_url, sql, *args)
        if rows or asyncio.get_running_loop().time() > deadline:
            return rows
        await asyncio.sleep(0.2)


async def test_telnyx_text_and_stop_reach_routing(services, database_url):
    ingest = services["ingest"].url
    customer = _customer()
    async with httpx.AsyncClient(timeout=15) as client:
        hello = received_event(
            customer,
            demo.TELNYX_NUMBER,
            "Bonjour, my Civic?",
            media=[("https://media.telnyx.com/x/photo.jpg", "image/jpeg")],
        )
        response = await post_event(client, ingest, demo.TELNYX_PRIVATE_KEY, hello)
        assert response.status_code == 200, response.text
        stored = await _eventually(
            database_url,
            "SELECT carrier, body, attachments::text AS attachments, to_e164 FROM routing.messages"
            " WHERE carrier_message_id = $1",
            hello["data"]["payload"]["id"],
        )
        assert [(r["carrier"], r["body"], r["to_e164"]) for r in stored] == [
            ("telnyx", "Bonjour, my Civic?", demo.TELNYX_NUMBER)
        ]
        assert "photo.jpg" in stored[0]["attachments"]

        stop = received_event(customer, demo.TELNYX_NUMBER, "Stop.")
        assert (await post_event(client, ingest, demo.TELNYX_PRIVATE_KEY, stop)).status_code == 200
        opted_out = await _eventually(
            database_url,
            "SELECT keyword, dealership_e164 FROM routing.opt_outs WHERE customer_e164 = $1",
            customer,
        )
        assert [(r["keyword"], r["dealership_e164"]) for r in opted_out] == [("STOP", demo.TELNYX_NUMBER)]

        start = received_event(customer, demo.TELNYX_NUMBER, "START")
        assert (await post_event(client, ingest, demo.TELNYX_PRIVATE_KEY, start)).status_code == 200
        await _eventually(
            database_url,
            "SELECT 1 FROM routing.timeline_events WHERE kind = 'opted_in' AND data->>'customer_phone' = $1",
            customer,
        )
        assert (
            await _fetch(database_url, "SELECT 1 FROM routing.opt_outs WHERE customer_e164 = $1", customer)
            == []
        )


async def test_twilio_mms_reaches_routing_once_even_when_retried(services, database_url):
    ingest = services["ingest"].url
    form = inbound_sms_form(
        demo.TWILIO_ACCOUNT_SID,
        _customer(),
        demo.DEALERSHIP_NUMBER,
        "",
        media=[("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME9", "image/png")],
    )
    async with httpx.AsyncClient(timeout=15) as client:
        outcomes = []
        for _ in range(2):
            response = await post_inbound(client, ingest, demo.TWILIO_AUTH_TOKEN, form)
            outcomes.append(response.headers.get("x-switchboard-outcome"))
    assert outcomes == ["accepted", "duplicate"]
    stored = await _eventually(
        database_url,
        "SELECT attachments::text AS attachments FROM routing.messages WHERE carrier_message_id = $1",
        form["MessageSid"],
    )
    assert len(stored) == 1 and "image/png" in stored[0]["attachments"]
