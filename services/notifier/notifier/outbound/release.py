"""The background job that sends held messages when the customer's day starts, and picks up
messages a replica that died left `sending`. Every replica runs it; rows are taken with
FOR UPDATE SKIP LOCKED so each is taken by one."""

import asyncio
import contextlib
from collections import defaultdict
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier.outbound import repository
from notifier.outbound.sender import Clock, OutboundSender
from notifier.outbound.settings import OutboundSettings
from shared.contracts.messaging import OutboundRequested

log = structlog.get_logger(__name__)


class QuietHoursRelease:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        sender: OutboundSender,
        settings: OutboundSettings,
        clock: Clock,
    ) -> None:
        self._sessions = sessions
        self._sender = sender
        self._settings = settings
        self._clock = clock

    async def release_due(self) -> int:
        """Sends what is due now; returns how many were sent (or failed) this round."""
        now: datetime = self._clock()
        ready: list[OutboundRequested] = []
        async with self._sessions.begin() as session:
            for request in await repository.take_due(session, now, self._settings.outbound_release_batch):
                # Released late (the job was down past the evening)? Then it waits for tomorrow.
                held = self._sender.held_until(request)
                if held:
                    await repository.reschedule(session, request.message_id, held)
                else:
                    await repository.mark_sending(session, request.message_id, self._sender.lease_until())
                    ready.append(request)
        by_number: dict[str, list[OutboundRequested]] = defaultdict(list)
        for request in ready:
            by_number[request.from_number].append(request)
        # Numbers in parallel, each number's texts in order (its rate limit spaces them anyway).
        await asyncio.gather(*(self._send_in_order(requests) for requests in by_number.values()))
        if ready:
            log.info("outbound released", count=len(ready))
        return len(ready)

    async def _send_in_order(self, requests: list[OutboundRequested]) -> None:
        for request in requests:
            await self._sender.send_claimed(request)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            released = await self.release_due()
            if released < self._settings.outbound_release_batch:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        stop.wait(), timeout=self._settings.outbound_release_interval_seconds
                    )
