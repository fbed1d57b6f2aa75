"""Who is told what, with every service a real process: customer texts through ingest, a bulk
assignment with a note through routing's API, notifier's live streams and feed; and an export
through exporter queued as an e-mail to its requester with the link."""

import asyncio
import uuid

import asyncpg
import httpx
import pytest

from devtools import demo
from devtools.carrier_simulator.twilio import inbound_sms_form, post_inbound
from shared.testing.infrastructure import dsn
from tests.e2e.clients import SseStream, login

pytestmark = pytest.mark.e2e


def _number() -> str:
    return f"+1514557{uuid.uuid4().int % 10_000:04d}"


async def _text(client: httpx.AsyncClient, ingest: str, phone: str, body: str) -> None:
    form = inbound_sms_form(demo.TWILIO_ACCOUNT_SID, phone, demo.DEALERSHIP_NUMBER, body)
    assert (await post_inbound(client, ingest, demo.TWILIO_AUTH_TOKEN, form)).status_code == 200


def _about(conversation_ids: set[str]):
    def matches(event) -> bool:
        data = event.data["data"]
        return data.get("conversation_id") in conversation_ids or bool(
            conversation_ids & set(data.get("conversation_ids", []))
        )

    return matches


async def test_texts_and_a_bulk_assignment_with_a_note_reach_the_right_people_once(services):
    ingest, routing, notifier = (services[n].url for n in ("ingest", "routing", "notifier"))
    tag = uuid.uuid4().hex[:8]
    async with httpx.AsyncClient(timeout=20) as client:
        admin_token = await login(client, routing, demo.ADMIN_EMAIL, demo.PASSWORD)
        agent_token = await login(client, routing, demo.AGENT_EMAIL, demo.PASSWORD)
        stream_url = f"{notifier}/api/v1/notifications/stream"
        async with (
            SseStream(stream_url, admin_token).open() as admin,
            SseStream(stream_url, agent_token).open() as agent,
        ):
            # Two customers text in: unassigned conversations, so the admin hears about them.
            phones = [_number(), _number()]
            for index, phone in enumerate(phones):
                await _text(client, ingest, phone, f"first text {index} {tag}")
            firsts = [
                await admin.wait_for(lambda e, i=i: e.data["body"] == f"first text {i} {tag}", 40)
                for i in range(2)
            ]
            conversation_ids = [e.data["data"]["conversation_id"] for e in firsts]
            assert {e.event for e in firsts} == {"message_received"}

            # The admin gives both to Sam at once, with a note: one notification listing both.
            assigned = await client.post(
                f"{routing}/api/v1/conversations/assign",
                headers={"authorization": f"Bearer {admin_token}"},
                json={
                    "conversation_ids": conversation_ids,
                    "assignee": {"user_id": str(demo.AGENT_ID)},
                    "note": f"both asked about their car {tag}",
                },
            )
            assert assigned.status_code == 200, assigned.text
            assignment = await agent.wait_for(
                lambda e: e.event == "conversation_assigned" and _about(set(conversation_ids))(e), 40
            )
            assert sorted(assignment.data["data"]["conversation_ids"]) == sorted(conversation_ids)
            assert assignment.data["title"] == "Alex Admin assigned 2 conversations to you"
            assert tag in assignment.data["body"]

            # Now Sam's: the customer's next text goes to Sam, no longer to the admin.
            await _text(client, ingest, phones[0], f"second text {tag}")
            await agent.wait_for(lambda e: e.data["body"] == f"second text {tag}", 40)
            await asyncio.sleep(2)
            about_them = [e for e in agent.events if _about(set(conversation_ids))(e)]
            assert sorted(e.event for e in about_them) == ["conversation_assigned", "message_received"]
            admin_later = [e for e in admin.events if _about(set(conversation_ids))(e) and e not in firsts]
            assert admin_later == []  # the actor hears nothing of their own action, nor of Sam's texts

        agent_headers = {"authorization": f"Bearer {agent_token}"}
        feed = (await client.get(f"{notifier}/api/v1/notifications", headers=agent_headers)).json()["items"]
        assert len([n for n in feed if _about(set(conversation_ids))(_Wrapped(n))]) == 2
        assert (
            await client.get(f"{notifier}/api/v1/notifications/unread-count", headers=agent_headers)
        ).json()["unread"] >= 2
        cleared = await client.post(f"{notifier}/api/v1/notifications/read-all", headers=agent_headers)
        assert cleared.json()["unread"] == 0


class _Wrapped:
    """A feed item shaped like a stream event, for `_about`."""

    def __init__(self, notification: dict) -> None:
        self.data = notification


async def test_a_finished_export_is_queued_as_an_email_to_its_requester(services, database_url):
    ingest, routing, exporter = (services[n].url for n in ("ingest", "routing", "exporter"))
    phone = _number()
    async with httpx.AsyncClient(timeout=20) as client:
        await _text(client, ingest, phone, f"please send me the transcript {uuid.uuid4().hex[:6]}")
        token = await login(client, routing, demo.AGENT_EMAIL, demo.PASSWORD)
        headers = {"authorization": f"Bearer {token}"}
        conversation = None
        for _ in range(100):
            items = (await client.get(f"{routing}/api/v1/conversations", headers=headers)).json()["items"]
            conversation = next((c for c in items if c["customer_phone"] == phone), None)
            if conversation:
                break
            await asyncio.sleep(0.2)
        assert conversation, "the text never became a conversation"
        asked = await client.post(
            f"{exporter}/api/v1/exports", json={"conversation_id": conversation["id"]}, headers=headers
        )
        assert asked.status_code == 202, asked.text
        job_id = asked.json()["job_id"]

    connection = await asyncpg.connect(dsn(database_url))
    try:
        row = None
        for _ in range(300):
            row = await connection.fetchrow(
                "SELECT user_id, kind, context FROM notifier.email_outbox"
                " WHERE context->'data'->>'job_id' = $1",
                job_id,
            )
            if row:
                break
            await asyncio.sleep(0.3)
        in_app = await connection.fetchval(
            "SELECT count(*) FROM notifier.notifications WHERE data->>'job_id' = $1", job_id
        )
    finally:
        await connection.close()
    assert row is not None, "no e-mail queued for the finished export"
    assert row["user_id"] == demo.AGENT_ID and row["kind"] == "export_completed"
    assert f"/api/v1/exports/{job_id}/download?token=" in row["context"]
    assert in_app == 0
