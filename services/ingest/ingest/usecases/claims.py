"""Webhook claims committed in groups: every webhook waiting at the same moment is claimed by one
INSERT and published in one Kafka round trip, in one transaction that commits only after Kafka
acknowledged all of them.

The guarantee is the one-by-one claim's: a webhook is answered "accepted" only once its event is
in Kafka and its claim is committed; a failed publish or a database error rolls the whole group's
claims back and every webhook of the group gets the error (a 503: the carrier sends it again, and
it is not mistaken for a duplicate). What changes is the cost: one transaction (BEGIN, INSERT,
COMMIT) and one Kafka acknowledgement per group instead of per webhook, and no webhook holds a
pooled connection while it waits for Kafka.

Groups overlap: once a group's records are with the producer, the webhooks that arrived meanwhile
form the next group, which claims and hands its records over while the first still waits for
Kafka's acknowledgement (up to `max_in_flight` groups, each in its own transaction). One group at
a time left the process idle for every Kafka round trip (issue 17: ~40 % of the time at
saturation). Records are handed to the producer group after group, each group's in arrival order,
so a partition key's records keep the order their webhooks arrived in; each group still commits
or rolls back on its own acknowledgement. A key claimed by a group still in flight makes a later
group's INSERT wait for that transaction (PostgreSQL's unique index): the later webhook is a
duplicate if the first commits and claimed if it rolled back, as when groups ran one at a time.

An inbound text claimed here is also counted for billing (`usage_texts_in`) by the same statement,
so the count commits exactly when the claim does: once Kafka acknowledged the text. A duplicate
claims nothing and so counts nothing more; a group that fails counts nothing, and the carrier's
retry (or catch-up) counts the text when it is accepted."""

import asyncio
import contextvars
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from opentelemetry import propagate
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.contracts.base import Event
from shared.contracts.carrier import CarrierInbound
from shared.contracts.topics import TopicSpec
from shared.db.engine import pooled_asyncpg_connection
from shared.kafka.broker import EventPublisher

# Straight through asyncpg (its statement cache prepares it once per connection): through a
# SQLAlchemy session the same transaction cost ~1.7x the CPU. One round trip claims the group and
# counts its inbound texts (the columns $4-$6 are NULL for anything else, a status callback).
_CLAIM_AND_COUNT = (
    "WITH listed AS ("
    " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::uuid[], $6::timestamptz[])"
    " AS l(carrier, kind, dedupe_key, message_id, account_id, received_at)),"
    " claimed AS ("
    " INSERT INTO ingest.received_webhooks (carrier, kind, dedupe_key)"
    " SELECT carrier, kind, dedupe_key FROM listed"
    " ON CONFLICT DO NOTHING RETURNING carrier, kind, dedupe_key),"
    " counted AS ("
    " INSERT INTO ingest.usage_texts_in (carrier, message_id, account_id, received_at)"
    " SELECT l.carrier, l.message_id, l.account_id, l.received_at"
    " FROM claimed JOIN listed l USING (carrier, kind, dedupe_key) WHERE l.message_id IS NOT NULL"
    " ON CONFLICT DO NOTHING)"
    " SELECT carrier, kind, dedupe_key FROM claimed"
)


@dataclass(slots=True)
class _Waiting:
    claim: tuple[str, str, str]  # carrier, kind, dedupe key
    topic: TopicSpec
    event: Event
    trace: dict[str, str]  # the webhook's trace context, carried by its Kafka record
    answer: asyncio.Future[bool]


class WebhookClaims:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        publisher: EventPublisher,
        max_group: int = 500,
        max_in_flight: int = 4,
    ) -> None:
        # The engine behind the sessions: a group needs a pooled connection, not a Session
        # (a pooled connection costs ~0.1 ms less CPU a group than a session's connection; at
        # moderate rates a group holds one or two webhooks, so that is per webhook).
        self._engine: AsyncEngine = sessions.kw["bind"]
        self._publisher = publisher
        self._max_group = max_group
        self._in_flight = asyncio.Semaphore(max_in_flight)
        self._waiting: list[_Waiting] = []
        self._runner: asyncio.Task | None = None
        self._groups: set[asyncio.Task] = set()

    async def publish_once(
        self, carrier: str, kind: str, dedupe_key: str, topic: TopicSpec, event: Event
    ) -> bool:
        """True when this webhook was claimed and its event is in Kafka; False for a duplicate.
        Raises what claiming or publishing its group raised (PublishFailed, database errors)."""
        trace: dict[str, str] = {}
        propagate.inject(trace)
        answer = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting((carrier, kind, dedupe_key), topic, event, trace, answer))
        if self._runner is None or self._runner.done():
            # A context of its own: the runner outlives this request and serves others.
            self._runner = asyncio.create_task(self._run_groups(), context=contextvars.Context())
        # A webhook whose client goes away leaves its group running: its claim and its event
        # stay consistent whatever happens to the request.
        return await answer

    async def _run_groups(self) -> None:
        """Forms the groups in arrival order and starts each once the previous one's records are
        with the producer, so records reach the producer in arrival order."""
        while self._waiting:
            await self._in_flight.acquire()
            handed = asyncio.get_running_loop().create_future()
            # The group takes its webhooks once its transaction has begun (_claim_and_publish).
            task = asyncio.create_task(self._run_group([], handed))
            self._groups.add(task)
            task.add_done_callback(self._groups.discard)
            await handed

    def _take_group(self) -> list[_Waiting]:
        group = self._waiting[: self._max_group]
        del self._waiting[: self._max_group]
        return group

    async def _run_group(self, group: list[_Waiting], handed: asyncio.Future[None]) -> None:
        try:
            claimed = await self._claim_and_publish(group, handed)
        except BaseException as exc:
            if not group:  # failed before taking its webhooks (no connection, BEGIN refused)
                group = self._take_group()
            for waiting in group:
                if not waiting.answer.done():
                    waiting.answer.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
        else:
            for waiting in group:
                if not waiting.answer.done():
                    waiting.answer.set_result(id(waiting) in claimed)
        finally:
            if not handed.done():
                handed.set_result(None)
            self._in_flight.release()

    async def _claim_and_publish(self, group: list[_Waiting], handed: asyncio.Future[None]) -> set[int]:
        """Takes the webhooks waiting into `group` once its transaction has begun, and returns
        the ids of those claimed (a key twice in one group: the first one). Sets `handed` once
        the group's records are with the producer.

        Taken after BEGIN rather than before: webhooks that arrive during the pool checkout and
        BEGIN's round trip join this group instead of waiting for the next one, so a webhook's
        wait for its claim is one round trip shorter (issue 17: at saturation ingest is bound by
        that latency, 32 connections each waiting for their group). Only one group takes at a
        time (the runner starts the next once this one handed), so arrival order holds."""
        async with pooled_asyncpg_connection(self._engine) as connection, connection.transaction():
            group.extend(self._take_group())
            if not group:  # nothing waiting (the runner starts a group only when something is)
                return set()
            firsts: dict[tuple[str, str, str], _Waiting] = {}
            for waiting in group:
                firsts.setdefault(waiting.claim, waiting)
            # Claimed in key order: two replicas' groups sharing keys then lock them in the
            # same order (in arrival order, one group could hold a key the other waits for
            # and the reverse).
            ordered = sorted(firsts.items(), key=lambda item: item[0])
            # Per claim: carrier, kind, dedupe key, then what usage counts of an inbound text.
            columns = [
                list(column)
                for column in zip(*(claim + _text_in(w.event) for claim, w in ordered), strict=True)
            ]
            rows = await connection.fetch(_CLAIM_AND_COUNT, *columns)
            claimed = {(row[0], row[1], row[2]) for row in rows}
            new = [waiting for claim, waiting in firsts.items() if claim in claimed]
            records = await self._publisher.hand_in_order(
                [(w.topic, w.event.to_bytes(), w.event.partition_key, w.trace) for w in new]
            )
            handed.set_result(None)
            await records.acknowledged()
        return {id(waiting) for waiting in new}


_NOT_A_TEXT_IN = (None, None, None)


def _text_in(event: Event) -> tuple[str | None, UUID | None, datetime | None]:
    """What usage counts of an inbound text (message id, account, the customer's send time)."""
    if isinstance(event, CarrierInbound):
        return event.carrier_message_id, event.account_id, event.received_at
    return _NOT_A_TEXT_IN
