"""The transactional outbox: events are rows written in the domain change's own transaction,
then relayed to Kafka in id order (so in order per key), at least once."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

import structlog
from opentelemetry import propagate
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from routing.tables import outbox
from shared.contracts.base import Event
from shared.contracts.topics import TopicSpec
from shared.kafka.broker import EventPublisher

log = structlog.get_logger(__name__)

# Only one relay publishes at a time across all replicas, which keeps per-key order.
_RELAY_LOCK = 0x5357_4F55_5442_4F58  # "SWOUTBOX"
# session.info key: the rows `events_written_together` keeps for one statement.
_PENDING = "routing.outbox.pending"


async def add_event(session: AsyncSession, spec: TopicSpec, event: Event, key: str) -> None:
    await add_events(session, spec, [(event, key)])


async def add_events(session: AsyncSession, spec: TopicSpec, events: list[tuple[Event, str]]) -> None:
    """Several events of one topic (a bulk action), in the given order, in one statement."""
    if not events:
        return
    headers: dict[str, str] = {}
    propagate.inject(headers)  # the trace of the request or message that caused the event
    rows = [
        {"topic": spec.name, "key": key, "payload": event.to_bytes(), "headers": headers}
        for event, key in events
    ]
    pending = session.info.get(_PENDING)
    if pending is not None:
        pending.extend(rows)
        return
    await _insert(session, rows)


async def _insert(session: AsyncSession, rows: list[dict]) -> None:
    if len(rows) == 1:
        await session.execute(outbox.insert().values(**rows[0]))
    elif rows:
        await session.execute(outbox.insert(), rows)


@contextlib.asynccontextmanager
async def events_written_together(session: AsyncSession) -> AsyncIterator[None]:
    """Inside, events added to the session's outbox are kept and written when the block ends, in
    the order they were added (so the relay's id order is theirs), in one statement: a batch of
    inbound texts pays one outbox round trip, not one per text. If the block raises, nothing is
    written (the transaction is rolled back anyway)."""
    pending: list[dict] = []
    session.info[_PENDING] = pending
    try:
        yield
    finally:
        session.info.pop(_PENDING, None)
    await _insert(session, pending)


class OutboxRelay:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        publisher: EventPublisher,
        batch_size: int,
        idle_poll_seconds: float,
        gather_seconds: float = 0.0,
    ) -> None:
        self._sessions = sessions
        self._publisher = publisher
        self._batch_size = batch_size
        self._idle_poll = idle_poll_seconds
        self._gather = gather_seconds
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Called after a commit that added events, so they leave without waiting for the poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            relayed = await self.relay_once()
            if relayed < self._batch_size:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self._idle_poll)
                if self._gather > 0 and self._wake.is_set():
                    # Woken by a commit: the commits of the next few ms ride along in the same
                    # relay transaction (at 100 texts/s one relay per inbound batch was as many
                    # transactions as the texts themselves).
                    await asyncio.sleep(self._gather)

    async def relay_once(self) -> int:
        async with self._sessions.begin() as session:
            # Taken and marked in one statement; the mark commits only after Kafka acknowledged
            # every row (a failed publish raises and rolls it back), so nothing is marked that
            # was not written.
            rows = sorted(
                (await session.execute(_TAKE_UNPUBLISHED, {"k": _RELAY_LOCK, "n": self._batch_size})).all(),
                key=lambda row: row.id,
            )
            # In id order, acknowledged together: one broker round trip per batch, not per row.
            await self._publisher.publish_in_order(
                [(row.topic, bytes(row.payload), row.key, row.headers or {}) for row in rows]
            )
            return len(rows)


# The advisory lock is an uncorrelated subquery (an InitPlan run once, before any row is read):
# a replica that does not get it takes nothing. RETURNING does not keep the subquery's order,
# hence the sort by id above.
_TAKE_UNPUBLISHED = text(
    "UPDATE routing.outbox SET published_at = now() WHERE id IN ("
    " SELECT id FROM routing.outbox WHERE published_at IS NULL"
    " AND (SELECT pg_try_advisory_xact_lock(:k)) ORDER BY id LIMIT :n)"
    " RETURNING id, topic, key, payload, headers"
)
