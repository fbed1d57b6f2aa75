"""export.requested.v1 handled: rendered, stored, retried, failed loudly; export.completed.v1
on the real Kafka either way; the signed link downloads that file only."""

import io
from datetime import UTC, datetime, timedelta

from pypdf import PdfReader

from exporter import repository
from exporter.usecases.events import requested_event
from exporter.usecases.request_export import request_export
from shared.contracts.topics import EXPORT_COMPLETED


async def _requested(sessions, events, dealer, conversation_id, **range_):
    return await request_export(
        sessions,
        events,
        account_id=dealer.account_id,
        user_id=dealer.sam_id,
        conversation_id=conversation_id,
        since=range_.get("since"),
        until=range_.get("until"),
        time_zone="America/Toronto",
    )


def _conversation(fake, dealer, messages: int = 3):
    conversation = fake.conversation(dealer.account_id)
    for i in range(messages):
        conversation.message(datetime(2026, 11, 2, 12, i, tzinfo=UTC), f"Is the Civic ready? #{i}")
    return conversation


async def test_export_is_rendered_stored_and_announced_with_a_working_link(
    sessions, events, runner, routing, dealer, client, kafka_events, storage, read_stored
):
    fake, _ = routing
    conversation = _conversation(fake, dealer)
    job = await _requested(sessions, events, dealer, conversation.id)
    await runner.handle(requested_event(job))

    status = (await client.get(f"/api/v1/exports/{job.id}", headers=dealer.sam)).json()
    assert status["status"] == "done" and status["attempts"] == 1 and status["pages"] == 1
    (completed,) = await kafka_events(EXPORT_COMPLETED, job.id)
    assert completed["download_url"] == status["download_url"]
    assert completed["failed_reason"] is None
    assert completed["requested_by_user_id"] == str(dealer.sam_id)
    expires = datetime.fromisoformat(completed["expires_at"])
    assert timedelta(days=6, hours=23) < expires - datetime.now(UTC) <= timedelta(days=7)

    link = completed["download_url"].removeprefix("https://exports.example.test")
    download = await client.get(link)
    assert download.status_code == 200 and download.headers["content-type"] == "application/pdf"
    stored = await read_stored(storage, f"{job.id}.pdf")
    assert stored is not None and download.content == stored
    assert download.headers["content-length"] == str(len(stored))
    assert "Is the Civic ready? #2" in PdfReader(io.BytesIO(stored)).pages[0].extract_text()


async def test_a_redelivered_request_for_a_finished_job_changes_nothing(
    sessions, events, runner, routing, dealer, kafka_events
):
    fake, _ = routing
    job = await _requested(sessions, events, dealer, _conversation(fake, dealer).id)
    await runner.handle(requested_event(job))
    calls = fake.calls
    await runner.handle(requested_event(job))
    async with sessions() as session:
        again = await repository.job_of_account(session, dealer.account_id, job.id)
    assert fake.calls == calls and again.status == "done" and again.attempts == 1
    assert len(await kafka_events(EXPORT_COMPLETED, job.id, at_least=2, timeout=3)) == 1


async def test_a_failing_render_is_retried_then_succeeds(sessions, events, runner, routing, dealer):
    fake, _ = routing
    job = await _requested(sessions, events, dealer, _conversation(fake, dealer).id)
    fake.fail_next = 2
    await runner.handle(requested_event(job))
    async with sessions() as session:
        done = await repository.job_of_account(session, dealer.account_id, job.id)
    assert (done.status, done.attempts) == ("done", 3)


async def test_a_render_that_keeps_failing_is_reported_to_the_requester(
    sessions, events, runner, routing, dealer, client, kafka_events
):
    fake, _ = routing
    job = await _requested(sessions, events, dealer, _conversation(fake, dealer).id)
    fake.fail_next = 100
    await runner.handle(requested_event(job))
    status = (await client.get(f"/api/v1/exports/{job.id}", headers=dealer.sam)).json()
    assert status["status"] == "failed" and status["attempts"] == 3
    assert "routing answered 503" in status["failed_reason"] and status["download_url"] is None
    (completed,) = await kafka_events(EXPORT_COMPLETED, job.id)
    assert completed["failed_reason"] == status["failed_reason"]
    assert completed["download_url"] is None and completed["expires_at"] is None


async def test_a_conversation_routing_does_not_know_fails_at_once(
    sessions, events, runner, routing, dealer, other_dealer, kafka_events
):
    fake, _ = routing
    theirs = _conversation(fake, other_dealer)
    job = await _requested(sessions, events, dealer, theirs.id)
    await runner.handle(requested_event(job))
    async with sessions() as session:
        failed = await repository.job_of_account(session, dealer.account_id, job.id)
    assert (failed.status, failed.attempts, failed.failed_reason) == (
        "failed",
        1,
        "the conversation was not found",
    )
    (completed,) = await kafka_events(EXPORT_COMPLETED, job.id)
    assert completed["failed_reason"] == "the conversation was not found"


async def test_a_finished_job_can_be_asked_for_again(sessions, events, runner, routing, dealer):
    fake, _ = routing
    conversation = _conversation(fake, dealer)
    first = await _requested(sessions, events, dealer, conversation.id)
    await runner.handle(requested_event(first))
    second = await _requested(sessions, events, dealer, conversation.id)
    assert second.id != first.id and second.status == "queued"
