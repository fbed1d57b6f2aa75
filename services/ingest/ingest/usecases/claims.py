"""Webhook claims committed in groups: every webhook waiting at the same moment is claimed by one
INSERT and published in one Kafka round trip, in one transaction that commits only after Kafka
acknowledged all of them.

The guarantee is the one-by-one claim's: a webhook is answered "accepted" only once its event is
in Kafka and its claim is committed; a failed publish or a database error rolls the whole group's
claims back and every webhook of the group gets the error (a 503: the carrier sends it again, and
it is not mistaken for a duplicate). What changes is the cost: one transaction (BEGIN, INSERT,
COMMIT) and one Kafka acknowledgement per group instead of per webhook, and no webhook holds a
pooled connection while it waits for Kafka. Groups run one at a time; the webhooks that arrive
while one runs form the next, so under load the groups grow and when idle a webhook goes alone
at once. Within a group records are handed to Kafka in arrival order."""

import asyncio
from dataclasses import dataclass

from opentelemetry import propagate
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.contracts.base import Event
from shared.contracts.topics import TopicSpec
from shared.kafka.broker import EventPublisher

_CLAIM = text(
    "INSERT INTO ingest.received_webhooks (carrier, kind, dedupe_key)"
    " SELECT * FROM unnest(CAST(:carriers AS text[]), CAST(:kinds AS text[]), CAST(:keys AS text[]))"
    " ON CONFLICT DO NOTHING RETURNING carrier, kind, dedupe_key"
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
        self, sessions: async_sessionmaker[AsyncSession], publisher: EventPublisher, max_group: int = 500
    ) -> None:
        self._sessions = sessions
        self._publisher = publisher
        self._max_group = max_group
        self._waiting: list[_Waiting] = []
        self._runner: asyncio.Task | None = None

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
            self._runner = asyncio.create_task(self._run_groups())
        # A webhook whose client goes away leaves its group running: its claim and its event
        # stay consistent whatever happens to the request.
        return await answer

    async def _run_groups(self) -> None:
        while self._waiting:
            group = self._waiting[: self._max_group]
            del self._waiting[: self._max_group]
            try:
                claimed = await self._claim_and_publish(group)
            except BaseException as exc:
                for waiting in group:
                    if not waiting.answer.done():
                        waiting.answer.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                continue
            for waiting in group:
                if not waiting.answer.done():
                    waiting.answer.set_result(id(waiting) in claimed)

    async def _claim_and_publish(self, group: list[_Waiting]) -> set[int]:
        """The ids of the group's entries that were claimed (a key twice in one group: the
        first one)."""
        firsts: dict[tuple[str, str, str], _Waiting] = {}
        for waiting in group:
            firsts.setdefault(waiting.claim, waiting)
        carriers, kinds, keys = (list(column) for column in zip(*firsts, strict=True))
        async with self._sessions.begin() as session:
            rows = await session.execute(_CLAIM, {"carriers": carriers, "kinds": kinds, "keys": keys})
            claimed = {(row.carrier, row.kind, row.dedupe_key) for row in rows}
            new = [waiting for claim, waiting in firsts.items() if claim in claimed]
            await self._publisher.publish_in_order(
                [(w.topic, w.event.to_bytes(), w.event.partition_key, w.trace) for w in new]
            )
        return {id(waiting) for waiting in new}
