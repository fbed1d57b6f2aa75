"""Auto-close: conversations inactive for longer than their account's setting get closed.
Every replica runs the sweeper; the batches lock what they take (see conversations/usecases/auto_close.py)."""

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from routing.conversations.usecases.auto_close import close_due_batch
from routing.settings import RoutingSettings

log = structlog.get_logger(__name__)


class AutoCloseSweeper:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: RoutingSettings,
        on_events: Callable[[], None] = lambda: None,
    ) -> None:
        self._sessions = sessions
        self._interval = settings.auto_close_interval_seconds
        self._batch_size = settings.auto_close_batch_size
        self._on_events = on_events

    async def run(self, stop: asyncio.Event) -> None:
        """Sweeps every `auto_close_interval_seconds` until `stop`; a failed sweep is logged and
        the next one comes at the next tick (the service keeps running)."""
        while not stop.is_set():
            try:
                closed = await self.sweep(stop=stop)
                if closed:
                    log.info("auto-closed conversations", count=len(closed))
            except Exception:
                log.exception("auto-close sweep failed; trying again at the next tick")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._interval)

    async def sweep(self, now: datetime | None = None, stop: asyncio.Event | None = None) -> list[UUID]:
        """Closes batches until none is due (as of `now`, default the current time); each batch
        commits on its own and then wakes the outbox relay. The ids this sweeper closed."""
        closed: list[UUID] = []
        while stop is None or not stop.is_set():
            async with self._sessions.begin() as session:
                batch = await close_due_batch(session, now or datetime.now(UTC), self._batch_size)
            if not batch:
                break
            closed.extend(batch)
            self._on_events()
        return closed
