"""Telnyx webhooks: find the account by the dealership number, check the Ed25519 signature and
its timestamp, then one event per message (received) or per message and status (sent,
finalized).

A number no account receives on is refused exactly like a bad signature (403), because nothing
unsigned may learn which numbers are ours: answering 404 for those and 403 for the others would
tell a stranger which ones exist. The log says which of the two it was."""

from datetime import UTC, datetime

import structlog

from ingest.domain import telnyx
from ingest.usecases.common import (
    Outcome,
    SignatureRejected,
    WebhookDeps,
    WebhookUnusable,
    publish_once,
    reject,
)
from shared.contracts.topics import CARRIER_INBOUND, CARRIER_STATUS

log = structlog.get_logger(__name__)


async def accept_telnyx(deps: WebhookDeps, body: bytes, timestamp: str, signature: str) -> Outcome:
    """Raises telnyx.MalformedWebhook (not attributable), UnsupportedEvent, SignatureRejected
    (also for a number no account receives on) or WebhookUnusable (authentic, recorded as
    rejected)."""
    envelope = telnyx.parse_envelope(body)
    if envelope.kind == "other":
        # Without a number we cannot tell whose key signed it, so it is refused unread.
        raise UnsupportedEvent(envelope.event_type)
    found = await deps.telnyx_keys.lookup(envelope.number or "")
    if found is None:
        log.info("telnyx webhook for a number no account receives on", number=envelope.number)
        raise SignatureRejected("no account receives on that number, so no key can verify it")
    public_key, account_id = found
    now = datetime.now(UTC)
    if not telnyx.signature_is_valid(public_key, timestamp, body, signature):
        raise SignatureRejected("signature does not match")
    if not telnyx.timestamp_is_fresh(timestamp, now, deps.telnyx_tolerance_seconds):
        raise SignatureRejected("timestamp outside the tolerance window")

    raw = body.decode("utf-8")  # parse_envelope already proved it is UTF-8 JSON
    try:
        if envelope.kind == "received":
            event = telnyx.inbound_message(envelope, raw, account_id, now)
            kind, key, topic = "sms", event.carrier_message_id, CARRIER_INBOUND
        else:
            event = telnyx.status_update(envelope, raw, account_id, now)
            kind, key, topic = "status", telnyx.status_dedupe_key(event), CARRIER_STATUS
    except ValueError as exc:
        await reject(deps, f"telnyx.{envelope.event_type}", str(exc), raw, account_id)
        raise WebhookUnusable(str(exc)) from exc
    return await publish_once(deps, "telnyx", kind, key, topic, event)


class UnsupportedEvent(Exception):
    """An event type other than message.received / message.sent / message.finalized."""
