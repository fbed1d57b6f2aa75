"""A conversation made by a real text travels to a PDF: ingest → routing; export asked over
HTTP → export.requested.v1 → exporter reads routing's API with a service token → PDF stored →
export.completed.v1 on Kafka with a signed link → the link downloads the PDF."""

import asyncio
import io
import json
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pypdf import PdfReader

from devtools import demo
from devtools.carrier_simulator.twilio import inbound_sms_form, post_inbound
from shared.testing.kafka_records import first_record
from tests.e2e.clients import login

pytestmark = pytest.mark.e2e


async def _completed_event(bootstrap: str, topic: str, job_id: str, timeout: float = 60.0) -> dict | None:
    record = await first_record(
        bootstrap, topic, lambda r: json.loads(r.value).get("job_id") == job_id, timeout
    )
    return json.loads(record.value) if record else None


async def _job_finished(client: httpx.AsyncClient, url: str, headers: dict, timeout: float = 90.0) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        job = (await client.get(url, headers=headers)).json()
        if job["status"] in ("done", "failed") or asyncio.get_running_loop().time() > deadline:
            return job
        await asyncio.sleep(0.3)


async def _conversation_of(client: httpx.AsyncClient, routing: str, headers: dict, phone: str) -> dict:
    for _ in range(100):
        page = (await client.get(f"{routing}/api/v1/conversations", headers=headers)).json()["items"]
        found = [c for c in page if c["customer_phone"] == phone]
        if found:
            return found[0]
        await asyncio.sleep(0.2)
    pytest.fail("the text never became a conversation")


async def test_a_conversation_is_exported_to_a_pdf_behind_a_signed_link(
    services, kafka_bootstrap, topic_prefix
):
    ingest, routing, exporter = (services[n].url for n in ("ingest", "routing", "exporter"))
    phone = f"+1514556{uuid.uuid4().int % 10_000:04d}"
    body = f"Bonjour, la Civic est prête? réf {uuid.uuid4().hex[:8]}"
    form = inbound_sms_form(
        demo.TWILIO_ACCOUNT_SID,
        phone,
        demo.DEALERSHIP_NUMBER,
        body,
        media=[
            (
                "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME9/quote.pdf",
                "application/pdf",
            )
        ],
    )
    async with httpx.AsyncClient(timeout=30) as client:
        assert (await post_inbound(client, ingest, demo.TWILIO_AUTH_TOKEN, form)).status_code == 200
        token = await login(client, routing, demo.ADMIN_EMAIL, demo.PASSWORD)
        headers = {"authorization": f"Bearer {token}"}
        conversation = await _conversation_of(client, routing, headers, phone)

        asked = await client.post(
            f"{exporter}/api/v1/exports", json={"conversation_id": conversation["id"]}, headers=headers
        )
        assert asked.status_code == 202, asked.text
        job_id = asked.json()["job_id"]
        job = await _job_finished(client, f"{exporter}/api/v1/exports/{job_id}", headers)
        assert job["status"] == "done", job

        completed = await _completed_event(kafka_bootstrap, f"{topic_prefix}export.completed.v1", job_id)
        assert completed is not None, "export.completed.v1 never arrived"
        assert completed["download_url"] == job["download_url"]
        assert completed["requested_by_user_id"] == str(demo.ADMIN_ID)
        assert completed["download_url"].startswith(f"{exporter}/api/v1/exports/{job_id}/download?token=")

        pdf = await client.get(completed["download_url"])
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
        text = " ".join(text.split())
        assert body in text and "Attachment: quote.pdf" in text and phone in text
        assert "Inbound · Customer · SMS" in text

        tampered = completed["download_url"][:-4] + (
            "AAAA" if not completed["download_url"].endswith("AAAA") else "BBBB"
        )
        assert (await client.get(tampered)).status_code == 403


async def test_an_export_of_a_range_before_the_conversation_holds_none_of_it(services):
    ingest, routing, exporter = (services[n].url for n in ("ingest", "routing", "exporter"))
    phone = f"+1514557{uuid.uuid4().int % 10_000:04d}"
    body = f"Out of range {uuid.uuid4().hex[:8]}"
    form = inbound_sms_form(demo.TWILIO_ACCOUNT_SID, phone, demo.DEALERSHIP_NUMBER, body)
    async with httpx.AsyncClient(timeout=30) as client:
        assert (await post_inbound(client, ingest, demo.TWILIO_AUTH_TOKEN, form)).status_code == 200
        token = await login(client, routing, demo.AGENT_EMAIL, demo.PASSWORD)
        headers = {"authorization": f"Bearer {token}"}
        conversation = await _conversation_of(client, routing, headers, phone)
        asked = await client.post(
            f"{exporter}/api/v1/exports",
            json={
                "conversation_id": conversation["id"],
                "since": "2020-01-01T00:00:00Z",
                "until": "2020-01-31T23:59:59Z",
            },
            headers=headers,
        )
        job = await _job_finished(client, f"{exporter}/api/v1/exports/{asked.json()['job_id']}", headers)
        assert job["status"] == "done", job
        pdf = await client.get(job["download_url"])
        text = " ".join(
            " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages).split()
        )
        assert "2020-01-" in text and "No messages in this period." in text
        assert body not in text


async def _eventually_status(call, expected: int, timeout: float = 20.0) -> httpx.Response:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await call()
        if response.status_code == expected or asyncio.get_running_loop().time() > deadline:
            return response
        await asyncio.sleep(0.5)


async def test_a_deactivated_or_demoted_user_loses_exports_and_search_within_seconds(
    services, kafka_bootstrap, topic_prefix
):
    """Tokens stay signed for hours; exporter and search ask the real routing whether their user
    is still active staff and what their role is now."""
    routing, exporter, search = (services[n].url for n in ("routing", "exporter", "search"))
    async with httpx.AsyncClient(timeout=30) as client:
        admin = {"authorization": f"Bearer {await login(client, routing, demo.ADMIN_EMAIL, demo.PASSWORD)}"}
        tag = uuid.uuid4().hex[:8]
        users = {}
        for name, role in (("leaving", "agent"), ("boss", "admin")):
            # Colleagues join by invitation: the link is taken from the event notifier e-mails.
            invited = await client.post(
                f"{routing}/api/v1/invitations",
                json={"email": f"{name}.{tag}@dealer.test", "name": f"{name} {tag}", "role": role},
                headers=admin,
            )
            assert invited.status_code == 201, invited.text
            sent = await first_record(
                kafka_bootstrap,
                f"{topic_prefix}staff.invitation_sent.v1",
                lambda r, i=invited.json()["id"]: json.loads(r.value).get("invitation_id") == i,
                30,
            )
            assert sent is not None
            token = parse_qs(urlsplit(json.loads(sent.value)["link"]).query)["token"][0]
            accepted = await client.post(
                f"{routing}/api/v1/invitations/accept",
                json={"token": token, "password": "long enough password"},
            )
            assert accepted.status_code == 200, accepted.text
            me = await client.get(
                f"{routing}/api/v1/me", headers={"authorization": f"Bearer {accepted.json()['access_token']}"}
            )
            users[name] = (me.json()["id"], {"authorization": f"Bearer {accepted.json()['access_token']}"})
        leaving_id, leaving = users["leaving"]
        boss_id, boss = users["boss"]

        asked = await client.post(
            f"{exporter}/api/v1/exports", json={"conversation_id": str(uuid.uuid4())}, headers=leaving
        )
        assert asked.status_code == 202, asked.text
        job_url = f"{exporter}/api/v1/exports/{asked.json()['job_id']}"
        assert (await client.get(job_url, headers=boss)).status_code == 200  # an admin sees it
        searched = await client.get(f"{search}/api/v1/search", params={"q": "civic"}, headers=leaving)
        assert searched.status_code == 200, searched.text

        deactivated = await client.patch(
            f"{routing}/api/v1/users/{leaving_id}", json={"active": False}, headers=admin
        )
        demoted = await client.patch(
            f"{routing}/api/v1/users/{boss_id}", json={"role": "agent"}, headers=admin
        )
        assert deactivated.status_code == demoted.status_code == 200

        status = await _eventually_status(lambda: client.get(job_url, headers=leaving), 401)
        export = await client.post(
            f"{exporter}/api/v1/exports", json={"conversation_id": str(uuid.uuid4())}, headers=leaving
        )
        found = await _eventually_status(
            lambda: client.get(f"{search}/api/v1/search", params={"q": "civic"}, headers=leaving), 401
        )
        assert status.status_code == export.status_code == found.status_code == 401
        # The demoted admin's token still says admin; exporter now treats them as an agent.
        assert (await _eventually_status(lambda: client.get(job_url, headers=boss), 404)).status_code == 404
