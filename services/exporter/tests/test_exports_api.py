"""Asking for an export over HTTP: the job row and export.requested.v1 (real Postgres, real Kafka)."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import asyncpg
from faststream.kafka import KafkaBroker

from exporter.usecases.events import JobEvents
from exporter.usecases.relay import ExportOutboxRelay
from exporter.usecases.request_export import request_export
from shared.contracts.topics import EXPORT_REQUESTED
from shared.http.auth import issue_token
from shared.kafka.broker import EventPublisher


async def test_request_is_accepted_with_a_job_and_travels_on_kafka(client, dealer, kafka_events):
    conversation_id = uuid4()
    body = {"conversation_id": str(conversation_id), "since": "2026-11-01T00:00:00-05:00"}
    response = await client.post("/api/v1/exports", json=body, headers=dealer.sam)
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["status"] == "queued" and job["attempts"] == 0 and job["download_url"] is None
    (event,) = await kafka_events(EXPORT_REQUESTED, job["job_id"])
    assert event["conversation_id"] == str(conversation_id)
    assert event["requested_by_user_id"] == str(dealer.sam_id)
    assert event["account_id"] == str(dealer.account_id)
    assert datetime.fromisoformat(event["since"]) == datetime(2026, 11, 1, 5, 0, tzinfo=UTC)
    assert event["until"] is None and event["_key"] == job["job_id"]


async def test_the_same_request_while_pending_is_the_same_job(client, dealer, other_dealer):
    conversation_id = str(uuid4())
    whole = {"conversation_id": conversation_id}
    first = (await client.post("/api/v1/exports", json=whole, headers=dealer.sam)).json()
    again = (await client.post("/api/v1/exports", json=whole, headers=dealer.sam)).json()
    ranged = {**whole, "since": "2026-11-01T00:00:00Z"}
    other_range = (await client.post("/api/v1/exports", json=ranged, headers=dealer.sam)).json()
    colleague = (await client.post("/api/v1/exports", json=whole, headers=dealer.kim)).json()
    assert again["job_id"] == first["job_id"]
    assert len({first["job_id"], other_range["job_id"], colleague["job_id"]}) == 3


async def test_job_status_is_for_the_requester_and_admins_only(client, dealer, other_dealer):
    created = await client.post("/api/v1/exports", json={"conversation_id": str(uuid4())}, headers=dealer.sam)
    url = f"/api/v1/exports/{created.json()['job_id']}"
    assert (await client.get(url, headers=dealer.sam)).status_code == 200
    assert (await client.get(url, headers=dealer.admin)).json()["status"] == "queued"
    colleague = await client.get(url, headers=dealer.kim)
    stranger = await client.get(url, headers=other_dealer.admin)
    missing = await client.get(f"/api/v1/exports/{uuid4()}", headers=dealer.admin)
    assert colleague.status_code == stranger.status_code == missing.status_code == 404
    assert stranger.json() == missing.json()
    assert (await client.get(url)).status_code == 401


async def test_invalid_requests_are_refused_with_the_error_shape(client, dealer, settings):
    bad = [
        {"conversation_id": "not-a-uuid"},
        {"conversation_id": str(uuid4()), "since": "2026-11-01T00:00:00"},  # no offset
        {"conversation_id": str(uuid4()), "since": "2026-11-02T00:00:00Z", "until": "2026-11-01T00:00:00Z"},
        {"conversation_id": str(uuid4()), "time_zone": "Mars/Olympus"},
        {"conversation_id": str(uuid4()), "surprise": 1},
    ]
    for body in bad:
        response = await client.post("/api/v1/exports", json=body, headers=dealer.sam)
        assert response.status_code == 422, body
        assert response.json()["error"]["code"] == "invalid_request"
    service = issue_token(settings, "routing", dealer.account_id, "service")
    refused = await client.post(
        "/api/v1/exports",
        json={"conversation_id": str(uuid4())},
        headers={"authorization": f"Bearer {service}"},
    )
    assert refused.status_code == 403


async def test_kafka_down_keeps_the_job_and_the_relay_publishes_it(
    sessions, settings, links, events, dealer, kafka_events
):
    # A producer that cannot reach any broker: the request must neither fail nor be lost.
    unreachable = KafkaBroker("127.0.0.1:1", request_timeout_ms=300)
    down = EventPublisher(unreachable, settings.model_copy(update={"kafka_publish_timeout_seconds": 0.5}))
    job = await request_export(
        sessions,
        JobEvents(sessions, down, links, "https://x.test"),
        account_id=dealer.account_id,
        user_id=dealer.sam_id,
        conversation_id=uuid4(),
        since=None,
        until=None,
        time_zone=None,
    )
    assert job.status == "queued"
    dsn = settings.database_url.replace("+asyncpg", "")
    connection = await asyncpg.connect(dsn)
    try:
        sql = "SELECT requested_published_at FROM exporter.export_jobs WHERE id = $1"
        assert await connection.fetchval(sql, job.id) is None
        relay = ExportOutboxRelay(sessions, events, retry_after=timedelta(0))
        assert await relay.relay_once() >= 1
        assert await connection.fetchval(sql, job.id) is not None
    finally:
        await connection.close()
    assert len(await kafka_events(EXPORT_REQUESTED, job.id)) == 1
