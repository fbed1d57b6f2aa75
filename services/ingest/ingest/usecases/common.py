"""What every carrier webhook shares: the outcome, the refusals, the dependencies, publishing
once per carrier event, and keeping authentic but unusable input with its reason."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from uuid import UUID

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ingest import repository
from ingest.repository import TelnyxKeys, TwilioCredentials
from ingest.usecases.claims import WebhookClaims
from shared.contracts.base import Event
from shared.contracts.carrier import RejectedInput
from shared.contracts.topics import CARRIER_REJECTED, TopicSpec
from shared.kafka.broker import EventPublisher

# A line per webhook: with INFO off it costs a level check (shared.telemetry.LevelGatedLogger).
log = structlog.get_logger(__name__)


class Outcome(Enum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"


class SignatureRejected(Exception):
    """Not provably from the carrier: nothing is recorded or published. Messages never carry
    a credential."""


class WebhookUnusable(Exception):
    """Authentic, but unusable; already recorded on the rejected topic."""


@dataclass(frozen=True)
class WebhookDeps:
    sessions: async_sessionmaker[AsyncSession]
    publisher: EventPublisher
    credentials: TwilioCredentials
    telnyx_keys: TelnyxKeys
    telnyx_tolerance_seconds: float = 300.0
    # Made from sessions and publisher: webhooks claimed and published in groups.
    claims: WebhookClaims = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "claims", WebhookClaims(self.sessions, self.publisher))


async def publish_once(
    deps: WebhookDeps, carrier: str, kind: str, dedupe_key: str, topic: TopicSpec, event: Event
) -> Outcome:
    # The claim commits only after Kafka acknowledged the event: a failed publish rolls it
    # back, so the carrier's retry is not mistaken for a duplicate (claims.py, in groups).
    if not await deps.claims.publish_once(carrier, kind, dedupe_key, topic, event):
        log.info("duplicate webhook dropped", carrier=carrier, kind=kind, dedupe_key=dedupe_key)
        return Outcome.DUPLICATE
    log.info("webhook accepted", carrier=carrier, kind=kind, dedupe_key=dedupe_key)
    return Outcome.ACCEPTED


async def reject(deps: WebhookDeps, source: str, reason: str, payload: str, account_id: UUID) -> None:
    """Keeps the input and the reason (table and topic), so nothing authentic is silently lost."""
    async with deps.sessions.begin() as session:
        await repository.record_rejected(session, source, reason, payload, account_id)
    record = RejectedInput(
        source=source,
        reason=reason,
        received_at=datetime.now(UTC),
        account_id=str(account_id),
        payload=payload,
    )
    await deps.publisher.publish(CARRIER_REJECTED, record.model_dump_json().encode(), key=source)
    log.warning("authentic webhook rejected", source=source, reason=reason, account_id=str(account_id))
