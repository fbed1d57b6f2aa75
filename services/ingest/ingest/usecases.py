"""ingest's use cases: verify, deduplicate, publish; success only once Kafka acknowledged."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from urllib.parse import urlencode
from uuid import UUID

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ingest import repository
from ingest.domain import twilio
from ingest.repository import TwilioCredentials
from shared.contracts.carrier import RejectedInput
from shared.contracts.topics import CARRIER_INBOUND, CARRIER_REJECTED
from shared.kafka.broker import EventPublisher

log = structlog.get_logger(__name__)


class Outcome(Enum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"


class SignatureRejected(Exception):
    pass


class WebhookUnusable(Exception):
    pass


@dataclass(frozen=True)
class WebhookDeps:
    sessions: async_sessionmaker[AsyncSession]
    publisher: EventPublisher
    credentials: TwilioCredentials


async def _authenticate_twilio(deps: WebhookDeps, form: Mapping[str, str], url: str, signature: str) -> UUID:
    found = await deps.credentials.lookup(form.get("AccountSid", ""))
    if found is None:
        raise SignatureRejected("unknown AccountSid")
    auth_token, account_id = found
    if not twilio.signature_is_valid(auth_token, url, form, signature):
        raise SignatureRejected("signature does not match")
    return account_id


async def accept_twilio_inbound(
    deps: WebhookDeps, form: Mapping[str, str], url: str, signature: str
) -> Outcome:
    account_id = await _authenticate_twilio(deps, form, url, signature)
    try:
        event = twilio.inbound_message(form, account_id, datetime.now(UTC))
    except (twilio.UnusableWebhook, ValueError) as exc:
        await _reject(deps, "twilio.sms", str(exc), form, account_id)
        raise WebhookUnusable(str(exc)) from exc

    # The claim commits only after Kafka acknowledged the event: a failed publish rolls it
    # back, so the carrier's retry is not mistaken for a duplicate.
    async with deps.sessions.begin() as session:
        if not await repository.claim_webhook(session, "twilio", "sms", event.carrier_message_id):
            log.info("duplicate webhook dropped", carrier_message_id=event.carrier_message_id)
            return Outcome.DUPLICATE
        await deps.publisher.publish(CARRIER_INBOUND, event, key=event.partition_key)
    log.info("inbound message accepted", carrier_message_id=event.carrier_message_id)
    return Outcome.ACCEPTED


async def _reject(
    deps: WebhookDeps, source: str, reason: str, form: Mapping[str, str], account_id: UUID
) -> None:
    payload = urlencode(sorted(form.items()))
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
