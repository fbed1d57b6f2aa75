"""Twilio webhooks: the signature with the auth token of the posting AccountSid, then one
event per message (inbound) or per message and status (callbacks)."""

from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import urlencode
from uuid import UUID

from ingest.domain import twilio
from ingest.usecases.common import (
    Outcome,
    SignatureRejected,
    WebhookDeps,
    WebhookUnusable,
    publish_once,
    reject,
)
from shared.contracts.topics import CARRIER_INBOUND, CARRIER_STATUS


async def _authenticate(deps: WebhookDeps, form: Mapping[str, str], urls: list[str], signature: str) -> UUID:
    found = await deps.credentials.lookup(form.get("AccountSid", ""))
    if found is None:
        raise SignatureRejected("unknown AccountSid")
    auth_token, account_id = found
    if not any(twilio.signature_is_valid(auth_token, url, form, signature) for url in urls):
        raise SignatureRejected("signature does not match")
    return account_id


async def _unusable(
    deps: WebhookDeps, source: str, exc: Exception, form: Mapping[str, str], account_id: UUID
) -> WebhookUnusable:
    await reject(deps, source, str(exc), urlencode(sorted(form.items())), account_id)
    return WebhookUnusable(str(exc))


async def accept_twilio_inbound(
    deps: WebhookDeps, form: Mapping[str, str], urls: list[str], signature: str
) -> Outcome:
    """`urls` are the URLs Twilio may have signed (ours, and the public one behind a proxy)."""
    account_id = await _authenticate(deps, form, urls, signature)
    try:
        event = twilio.inbound_message(form, account_id, datetime.now(UTC))
    except ValueError as exc:
        raise await _unusable(deps, "twilio.sms", exc, form, account_id) from exc
    return await publish_once(deps, "twilio", "sms", event.carrier_message_id, CARRIER_INBOUND, event)


async def accept_twilio_status(
    deps: WebhookDeps, form: Mapping[str, str], urls: list[str], signature: str
) -> Outcome:
    account_id = await _authenticate(deps, form, urls, signature)
    try:
        event = twilio.status_update(form, account_id, datetime.now(UTC))
    except ValueError as exc:
        raise await _unusable(deps, "twilio.status", exc, form, account_id) from exc
    return await publish_once(
        deps, "twilio", "status", twilio.status_dedupe_key(event), CARRIER_STATUS, event
    )
