"""Deletes PDFs whose link expired more than a grace ago; their jobs stay, marked `expired`.

Every replica runs the sweep. A batch of due jobs is locked with SKIP LOCKED, so replicas split
them instead of deleting one file twice; the files are deleted while the rows are held and the
jobs marked in the same transaction. A crash between the two leaves the jobs `done`: the next
sweep deletes again (a file already gone is fine) and marks them."""

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exporter import repository
from exporter.storage import PdfStore

log = structlog.get_logger(__name__)

BATCH = 100


class ExpiredFileSweeper:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        store: PdfStore,
        grace: timedelta,
        interval: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        batch: int = BATCH,
    ) -> None:
        self._sessions = sessions
        self._store = store
        self._grace = grace
        self._interval = interval
        self._clock = clock
        self._batch = batch

    async def sweep_once(self) -> int:
        """Deletes every due file, a batch per transaction; how many."""
        deleted = 0
        while True:
            due, done = await self._sweep_batch()
            deleted += done
            # A short batch is the last; a failed deletion waits for the next sweep.
            if due < self._batch or done < due:
                return deleted

    async def _sweep_batch(self) -> tuple[int, int]:
        now = self._clock()
        async with self._sessions.begin() as session:
            due = await repository.lock_expired_files(session, now - self._grace, self._batch)
            deleted = []
            for job in due:
                try:
                    if job.file_key:
                        await self._store.delete(job.file_key)
                except OSError as exc:  # StorageUnavailable included
                    log.warning(
                        "expired export file not deleted; next sweep", job_id=str(job.id), error=str(exc)
                    )
                    continue
                deleted.append(job.id)
            await repository.mark_expired(session, deleted, now)
        if deleted:
            log.info("expired export files deleted", count=len(deleted))
        return len(due), len(deleted)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.sweep_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._interval.total_seconds())
