"""The background job that sends held messages when the customer's day starts, and picks up
messages a replica that died left `sending`. Every replica runs it; each message is leased (with
a token) by one replica at a time, just before it is sent."""

import asyncio
import contextlib
from collections import defaultdict
from uuid import UUID, uuid4

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier.outbound import repository
from notifier.outbound.sender import Clock, OutboundSender
from notifier.outbound.settings import OutboundSettings

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
        """Sends what is due now; returns how many were sent (or failed) this round. Each message
        is leased on its own just before it is sent, so a long round (a number's rate limit, a
        carrier's retries) never outlives a lease while later messages wait their turn."""
        async with self._sessions() as session:
            due = await repository.due_ids(session, self._clock(), self._settings.outbound_release_batch)
        by_number: dict[str, list[UUID]] = defaultdict(list)
        for message_id, from_number in due:
            by_number[from_number].append(message_id)
        # Numbers in parallel, each number's texts in order (its rate limit spaces them anyway).
        counts = await asyncio.gather(*(self._send_in_order(ids) for ids in by_number.values()))
        released = sum(counts)
        if released:
            log.info("outbound released", count=released)
        return released

    async def _send_in_order(self, message_ids: list[UUID]) -> int:
        released = 0
        for message_id in message_ids:
            released += await self._release_one(message_id)
        return released

    async def _release_one(self, message_id: UUID) -> int:
        token = uuid4()
        async with self._sessions.begin() as session:
            leased = await repository.lease_due(
                session, message_id, self._clock(), self._sender.lease_until(), token
            )
            if leased is None:  # another replica took it, or it was settled meanwhile
                return 0
            # Released late (the job was down past the evening)? Then it waits for tomorrow.
            held = self._sender.held_until(leased.request)
            if held:
                await repository.reschedule(session, message_id, token, held)
                return 0
        # A sender whose lease ran out may have reached the carrier since the message was stored.
        unsure_since = leased.created_at if leased.orphaned else None
        outcome = await self._sender.send_claimed(leased.request, token, unsure_since)
        return 1 if outcome else 0

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            released = await self.release_due()
            if released < self._settings.outbound_release_batch:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        stop.wait(), timeout=self._settings.outbound_release_interval_seconds
                    )
