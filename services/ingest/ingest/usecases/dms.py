"""DMS events posted by an integration: usable ones onto `dms.events.v1`, the others onto
`dms.events.rejected.v1` and into ingest's table of rejections, all or nothing: the answer is
given only once Kafka acknowledged every event, so a 503 means "send the same batch again"
(routing ignores event ids it has seen)."""

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ingest.dms_repository import Integration, record_dms_rejections
from ingest.domain.dms_batch import Accepted, Refused, check_event, split_batch
from shared.contracts.dms import DmsEventRejected
from shared.contracts.topics import DMS_EVENTS, DMS_REJECTED
from shared.kafka.broker import EventPublisher

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class DmsDeps:
    sessions: async_sessionmaker[AsyncSession]
    publisher: EventPublisher
    max_batch: int = 500
    # How often, at most, an integration's "last used" is written (a busy one costs no write
    # per request).
    last_used_every: timedelta = timedelta(minutes=1)


@dataclass(frozen=True)
class BatchOutcome:
    was_batch: bool
    accepted: list[Accepted]
    refused: list[tuple[Refused, str]]  # with the rejection id the integrator can look up


async def accept_dms_events(deps: DmsDeps, integration: Integration, body: bytes) -> BatchOutcome:
    """Raises BatchUnreadable (nothing stored) or PublishFailed (nothing stored either)."""
    items, was_batch = split_batch(body, deps.max_batch)
    checked = [
        check_event(index, item, integration.account_id, integration.id) for index, item in enumerate(items)
    ]
    accepted = [result for result in checked if isinstance(result, Accepted)]
    refused = [(result, str(uuid4())) for result in checked if isinstance(result, Refused)]
    now = datetime.now(UTC)
    rejections = [
        DmsEventRejected(
            rejection_id=rejection_id,
            account_id=str(integration.account_id),
            integration_id=str(integration.id),
            event_id=result.event_id,
            reason=result.reason,
            errors=result.errors,
            received_at=now,
            payload=result.payload,
        )
        for result, rejection_id in refused
    ]
    # The rejection rows commit only if every publish was acknowledged.
    async with deps.sessions.begin() as session:
        await record_dms_rejections(
            session,
            integration,
            [
                {
                    "id": r.rejection_id,
                    "event_id": r.event_id,
                    "reason": r.reason,
                    "errors": r.errors,
                    "payload": r.payload,
                    "received_at": now,
                }
                for r in rejections
            ],
        )
        await asyncio.gather(
            _publish_in_key_order(deps.publisher, accepted),
            *(
                deps.publisher.publish(DMS_REJECTED, r.model_dump_json().encode(), key=r.partition_key)
                for r in rejections
            ),
        )
    log.info(
        "dms events received",
        integration_id=str(integration.id),
        accepted=len(accepted),
        rejected=len(refused),
    )
    return BatchOutcome(was_batch, accepted, refused)


async def _publish_in_key_order(publisher: EventPublisher, accepted: list[Accepted]) -> None:
    """Events of one DMS customer leave in the order they were posted; different customers in
    parallel."""
    by_key: dict[str, list[Accepted]] = defaultdict(list)
    for item in accepted:
        by_key[item.event.partition_key].append(item)

    async def publish_all(key: str, items: list[Accepted]) -> None:
        for item in items:
            await publisher.publish(DMS_EVENTS, item.event.to_bytes(), key=key)

    await asyncio.gather(*(publish_all(key, items) for key, items in by_key.items()))
