"""Publishes job events Kafka did not acknowledge when they happened (see events.py), and asks
again for jobs whose runner stopped. Safe on every replica: a batch is taken with SKIP LOCKED,
copied out and committed before anything is published, so no transaction (nor row lock) is held
while Kafka is slow; each event is then marked in a short transaction of its own. Two replicas
may publish the same event: harmless, its id derives from the job."""

import asyncio
import contextlib
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exporter import repository
from exporter.usecases.events import JobEvents

BATCH = 50


class ExportOutboxRelay:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], events: JobEvents, retry_after: timedelta
    ) -> None:
        self._sessions = sessions
        self._events = events
        self._retry_after = retry_after

    async def relay_once(self) -> int:
        """Publishes one batch; how many events Kafka acknowledged."""
        async with self._sessions.begin() as session:
            pending = await repository.lock_unpublished(session, self._retry_after, BATCH)
        published = 0
        for job, requested, completed in pending:
            if requested:
                published += await self._events.publish_requested(job)
            if completed:
                published += await self._events.publish_completed(job)
        return published

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.relay_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._retry_after.total_seconds())
