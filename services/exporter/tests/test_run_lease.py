"""One run at a time per export job: a redelivered request (a Kafka rebalance during a long
render) finds the job held and renders nothing; a run whose lease ended and whose job another run
took can neither finish it nor move its status back; the lease is renewed while a render runs
longer than it; a job whose runner died is asked for again by the relay."""

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import asyncpg

from exporter import repository
from exporter.usecases.events import requested_event
from exporter.usecases.relay import ExportOutboxRelay
from exporter.usecases.run_export import ExportRunner
from shared.contracts.topics import EXPORT_REQUESTED

LEASE = timedelta(minutes=5)


async def _job(sessions, dealer, job_id):
    async with sessions() as session:
        return await repository.job_of_account(session, dealer.account_id, job_id)


async def _end_lease(settings, job_id) -> None:
    connection = await asyncpg.connect(settings.database_url.replace("+asyncpg", ""))
    try:
        await connection.execute(
            "UPDATE exporter.export_jobs SET running_until = now() - interval '1 second', "
            "updated_at = now() - interval '1 hour' WHERE id = $1",
            job_id,
        )
    finally:
        await connection.close()


async def test_a_redelivery_while_the_job_renders_elsewhere_renders_nothing(
    queued_job, sessions, runner, routing, dealer
):
    fake, _ = routing
    job = await queued_job()
    async with sessions.begin() as session:  # another runner holds it, mid-render
        held = await repository.start_attempt(session, dealer.account_id, job.id, LEASE)
    assert held.status == "running" and held.run_token is not None
    await runner.handle(requested_event(job))
    after = await _job(sessions, dealer, job.id)
    assert fake.calls == 0
    assert (after.status, after.attempts, after.run_token) == ("running", 1, held.run_token)


async def test_a_run_that_lost_its_job_cannot_finish_it_nor_move_it_back(
    queued_job, sessions, runner, dealer, settings
):
    job = await queued_job()
    async with sessions.begin() as session:
        stale = await repository.start_attempt(session, dealer.account_id, job.id, LEASE)
    await _end_lease(settings, job.id)  # its runner stalled past the lease
    await runner.handle(requested_event(job))
    done = await _job(sessions, dealer, job.id)
    assert (done.status, done.attempts) == ("done", 2) and done.run_token != stale.run_token
    async with sessions.begin() as session:
        late_failure = await repository.mark_failed(
            session, job.id, stale.run_token, "too late", datetime.now(UTC)
        )
        late_done = await repository.mark_done(
            session, job.id, stale.run_token, "other.pdf", 9, datetime.now(UTC), datetime.now(UTC)
        )
        renewed = await repository.renew_lease(session, job.id, stale.run_token, LEASE)
    assert late_failure is None and late_done is None and renewed is False
    after = await _job(sessions, dealer, job.id)
    assert (after.status, after.file_key, after.pages) == ("done", done.file_key, done.pages)


async def test_the_lease_is_renewed_while_a_render_outlasts_it(
    queued_job, sessions, events, routing, storage, links, runner, dealer
):
    fake, client = routing
    short = runner._policy
    slow_runner = ExportRunner(sessions, client, storage, links, events, replace(short, lease_seconds=0.6))
    job = await queued_job()
    fake.page_delay = 2.0
    rendering = asyncio.create_task(slow_runner.handle(requested_event(job)))
    await asyncio.sleep(1.5)  # well past the first lease's end
    async with sessions.begin() as session:
        second = await repository.start_attempt(session, dealer.account_id, job.id, LEASE)
    await rendering
    assert second is None
    done = await _job(sessions, dealer, job.id)
    assert (done.status, done.attempts) == ("done", 1)


async def test_a_job_whose_runner_died_is_asked_for_again_and_runs(
    queued_job, sessions, events, runner, dealer, settings, kafka_events
):
    job = await queued_job()
    async with sessions.begin() as session:
        await repository.start_attempt(session, dealer.account_id, job.id, LEASE)
    await _end_lease(settings, job.id)  # the process died mid-render; its request was consumed
    relay = ExportOutboxRelay(sessions, events, retry_after=timedelta(0))
    await relay.relay_once()
    requests = await kafka_events(EXPORT_REQUESTED, job.id, at_least=2)
    assert len(requests) == 2 and requests[0]["event_id"] == requests[1]["event_id"]
    await runner.handle(requested_event(job))
    done = await _job(sessions, dealer, job.id)
    assert (done.status, done.attempts) == ("done", 2)
