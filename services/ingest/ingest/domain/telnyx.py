"""Telnyx's v2 messaging webhooks (JSON) and their Ed25519 signature, as plain functions.

Telnyx signs `f"{telnyx-timestamp}|{raw body}"` with the account's private key; we hold the
matching public key (base64, from the Mission Control portal). The timestamp is inside the
signature, so a captured webhook can only be replayed within the tolerance window."""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from nacl.exceptions import BadSignatureError, CryptoError
from nacl.signing import VerifyKey

from ingest.domain.unstorable import without_nul
from shared.carriers import error_codes
from shared.contracts.base import Attachment
from shared.contracts.carrier import CarrierInbound, CarrierStatus

EventKind = Literal["received", "status", "other"]
STATUS_EVENTS = frozenset({"message.sent", "message.finalized"})
MAX_MEDIA = 10


class MalformedWebhook(ValueError):
    """Not a Telnyx webhook we can even attribute to an account (not authenticated yet)."""


class UnusableWebhook(ValueError):
    """Authentic, but missing what we need to act on it."""


@dataclass(frozen=True)
class Envelope:
    """What we must read before the signature can be checked: which number, so which account."""

    event_type: str
    kind: EventKind
    number: str | None
    document: dict[str, Any]


def signature_is_valid(public_key_b64: str, timestamp: str, body: bytes, signature_b64: str) -> bool:
    try:
        key = VerifyKey(base64.b64decode(public_key_b64, validate=True))
        signature = base64.b64decode(signature_b64, validate=True)
        key.verify(timestamp.encode() + b"|" + body, signature)
    except (BadSignatureError, CryptoError, binascii.Error, ValueError, TypeError):
        return False
    return True


def timestamp_is_fresh(timestamp: str, now: datetime, tolerance_seconds: float) -> bool:
    """Unix seconds within `tolerance_seconds` of now, either way (clocks drift)."""
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return False
    return abs(now.timestamp() - int(timestamp)) <= tolerance_seconds


def parse_envelope(body: bytes) -> Envelope:
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise MalformedWebhook("body is not valid JSON") from exc
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, dict):
        raise MalformedWebhook("missing object data")
    event_type = data.get("event_type")
    payload = data.get("payload")
    if not isinstance(event_type, str) or not isinstance(payload, dict):
        raise MalformedWebhook("missing data.event_type or data.payload")
    if event_type == "message.received":
        kind: EventKind = "received"
        # The dealership's number is the one the customer wrote to.
        first = _list(payload.get("to"))[:1]
        number = _phone(first[0]) if first else None
    elif event_type in STATUS_EVENTS:
        kind = "status"
        number = _phone(payload.get("from"))
    else:
        return Envelope(event_type, "other", None, document)
    if number is None:
        raise MalformedWebhook("missing the dealership's phone_number")
    return Envelope(event_type, kind, number, document)


def inbound_message(
    envelope: Envelope, raw_body: str, account_id: UUID, received_at: datetime
) -> CarrierInbound:
    payload = envelope.document["data"]["payload"]
    return without_nul(
        CarrierInbound(
            account_id=account_id,
            carrier="telnyx",
            carrier_message_id=_required_text(payload, "id"),
            from_number=_phone(payload.get("from")) or _missing("payload.from.phone_number"),
            to_number=envelope.number or _missing("payload.to[0].phone_number"),
            body=_text(payload.get("text")),
            attachments=_attachments(payload.get("media")),
            received_at=received_at,
            raw={"event_type": envelope.event_type, "json": raw_body},
        )
    )


def status_update(
    envelope: Envelope, raw_body: str, account_id: UUID, received_at: datetime
) -> CarrierStatus:
    payload = envelope.document["data"]["payload"]
    recipients = _list(payload.get("to"))
    first = recipients[0] if recipients and isinstance(recipients[0], dict) else {}
    status = _text(first.get("status")).strip().lower()
    if not status:
        raise UnusableWebhook("missing payload.to[0].status")
    errors = [e for e in _list(payload.get("errors")) if isinstance(e, dict)]
    error = errors[0] if errors else {}
    code = _scalar_text(error.get("code")) or None
    message = " — ".join(t for t in (_text(error.get("title")), _text(error.get("detail"))) if t) or None
    return without_nul(
        CarrierStatus(
            account_id=account_id,
            occurred_at=received_at,
            carrier="telnyx",
            carrier_message_id=_required_text(payload, "id"),
            status=status,
            error_code=code,
            error_message=message,
            error_category=error_codes.category_for("telnyx", code),
            raw={"event_type": envelope.event_type, "json": raw_body},
        )
    )


def status_dedupe_key(event: CarrierStatus) -> str:
    return f"{event.carrier_message_id}:{event.status}"


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return ""
    return str(value).strip()


def _phone(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    number = value.get("phone_number")
    return number.strip() if isinstance(number, str) and number.strip() else None


def _missing(field: str):
    raise UnusableWebhook(f"missing {field}")


def _required_text(payload: dict, field: str) -> str:
    value = _text(payload.get(field)).strip()
    if not value:
        raise UnusableWebhook(f"missing payload.{field}")
    return value


def _attachments(media: Any) -> list[Attachment]:
    items = _list(media)
    if len(items) > MAX_MEDIA:
        raise UnusableWebhook(f"more than {MAX_MEDIA} media items")
    attachments = []
    for index, item in enumerate(items):
        url = _text(item.get("url")).strip() if isinstance(item, dict) else ""
        if not url:
            raise UnusableWebhook(f"payload.media[{index}].url is missing")
        content_type = _text(item.get("content_type")).strip() or None
        file_name = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] or None
        attachments.append(Attachment(url=url, content_type=content_type, file_name=file_name))
    return attachments
