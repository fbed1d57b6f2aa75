"""Expired PDFs are deleted by the periodic sweep, a grace after their link expired, from either
store; the job stays, shown `expired` (its link answers 410, not a puzzling 404). Sweeps on
several replicas at once split the due jobs (SKIP LOCKED): each file is deleted once."""

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import UUID

import httpx
import pytest

from exporter import repository
from exporter.usecases.expire_files import ExpiredFileSweeper

GRACE = timedelta(days=1)


@pytest.fixture(params=["local", "s3"])
def store(request, storage):
    """Each test runs on the local folder and on the S3-compatible bucket."""
    return storage if request.param == "local" else request.getfixturevalue("s3_store")


@pytest.fixture
async def client(store, directory, make_exports_app):
    """The exports API on that store."""
    api = make_exports_app(directory, store=store)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://exporter") as http:
        yield http


async def _status(sessions, dealer, job_id: UUID) -> str:
    async with sessions() as session:
        return (await repository.job_of_account(session, dealer.account_id, job_id)).status


def _sweeper(sessions, store, **options) -> ExpiredFileSweeper:
    return ExpiredFileSweeper(sessions, store, grace=GRACE, interval=timedelta(hours=1), **options)


async def test_files_past_expiry_and_grace_are_deleted_and_their_jobs_shown_expired(
    sessions, store, dealer, client, read_stored, done_job
):
    now = datetime.now(UTC).replace(microsecond=0)
    past_grace = await done_job(store, now - GRACE - timedelta(hours=1))
    in_grace = await done_job(store, now - timedelta(hours=1))
    alive = await done_job(store, now + timedelta(days=7))

    assert await _sweeper(sessions, store).sweep_once() >= 1

    job_id, key, token = past_grace
    assert await read_stored(store, key) is None
    assert await _status(sessions, dealer, job_id) == "expired"
    shown = (await client.get(f"/api/v1/exports/{job_id}", headers=dealer.sam)).json()
    assert shown["status"] == "expired" and shown["download_url"] is None
    assert shown["expires_at"] is not None, "when it expired is still shown"
    gone = await client.get(f"/api/v1/exports/{job_id}/download", params={"token": token})
    assert gone.status_code == 410 and gone.json()["error"]["code"] == "link_expired"

    for job_id, key, _ in (in_grace, alive):
        assert await read_stored(store, key) == b"%PDF-1.7 " + str(job_id).encode()
        assert await _status(sessions, dealer, job_id) == "done"
    _, alive_key, alive_token = alive
    opened = await client.get(f"/api/v1/exports/{alive[0]}/download", params={"token": alive_token})
    assert opened.status_code == 200

    # Once the grace has passed for the second one, the next sweep takes it, and only it.
    later = _sweeper(sessions, store, clock=lambda: now + GRACE)
    assert await later.sweep_once() >= 1
    assert await _status(sessions, dealer, in_grace[0]) == "expired"
    assert await read_stored(store, in_grace[1]) is None
    assert await _status(sessions, dealer, alive[0]) == "done"
    assert await read_stored(store, alive_key) is not None


class _SlowRecordingStore:
    """The real store, each deletion slowed down and recorded (to overlap two sweeps)."""

    def __init__(self, store) -> None:
        self._store = store
        self.deleted: list[str] = []

    async def delete(self, key: str) -> None:
        await asyncio.sleep(0.02)
        self.deleted.append(key)
        await self._store.delete(key)


async def test_sweeps_of_several_replicas_delete_each_file_once(
    sessions, store, dealer, read_stored, done_job
):
    long_ago = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)
    due = [await done_job(store, long_ago) for _ in range(12)]
    recording = _SlowRecordingStore(store)
    replicas = [_sweeper(sessions, recording, batch=5) for _ in range(3)]

    await asyncio.gather(*(replica.sweep_once() for replica in replicas))

    ours = [key for key in recording.deleted if key in {key for _, key, _ in due}]
    assert sorted(ours) == sorted(key for _, key, _ in due), "every file deleted, none twice"
    for job_id, key, _ in due:
        assert await _status(sessions, dealer, job_id) == "expired"
        assert await read_stored(store, key) is None


class _FailingStore:
    async def delete(self, key: str) -> None:
        raise OSError("the volume is read-only")


async def test_a_file_that_cannot_be_deleted_keeps_its_job_done_for_the_next_sweep(
    sessions, storage, dealer, read_stored, done_job
):
    long_ago = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)
    job_id, key, _ = await done_job(storage, long_ago)

    await _sweeper(sessions, _FailingStore()).sweep_once()
    assert await _status(sessions, dealer, job_id) == "done"

    await _sweeper(sessions, storage).sweep_once()
    assert await _status(sessions, dealer, job_id) == "expired"
    assert await read_stored(storage, key) is None
