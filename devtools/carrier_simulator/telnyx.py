"""Builds Telnyx-format v2 messaging webhooks signed the way Telnyx signs them (Ed25519 over
`{timestamp}|{raw body}`), and posts them to `ingest`. The private key lives only here and in
the tests; ingest knows the public key (seeded)."""

import base64
import json
import time
import uuid
from datetime import UTC, datetime

import httpx
from nacl.signing import SigningKey


def new_key_pair() -> tuple[str, str]:
    """(private key, public key), both base64, the way the Telnyx portal shows a public key."""
    key = SigningKey.generate()
    return base64.b64encode(bytes(key)).decode(), base64.b64encode(bytes(key.verify_key)).decode()


def public_key_of(private_key_b64: str) -> str:
    return base64.b64encode(bytes(SigningKey(base64.b64decode(private_key_b64)).verify_key)).decode()


def sign_telnyx(private_key_b64: str, timestamp: str, body: bytes) -> str:
    """The `telnyx-signature-ed25519` header value for a body sent at `timestamp`."""
    signed = SigningKey(base64.b64decode(private_key_b64)).sign(timestamp.encode() + b"|" + body)
    return base64.b64encode(signed.signature).decode()


def signed_headers(private_key_b64: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "content-type": "application/json",
        "telnyx-timestamp": stamp,
        "telnyx-signature-ed25519": sign_telnyx(private_key_b64, stamp, body),
    }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _envelope(event_type: str, payload: dict) -> dict:
    return {
        "data": {
            "event_type": event_type,
            "id": str(uuid.uuid4()),
            "occurred_at": _now(),
            "payload": payload,
            "record_type": "event",
        },
        "meta": {"attempt": 1, "delivered_to": "https://switchboard.example/webhooks/telnyx"},
    }


def received_event(
    from_number: str,
    to_number: str,
    text: str,
    media: list[tuple[str, str]] = (),
    message_id: str | None = None,
) -> dict:
    """A `message.received` event as Telnyx posts it; `media` is (url, content type) pairs."""
    return _envelope(
        "message.received",
        {
            "cc": [],
            "completed_at": None,
            "cost": None,
            "direction": "inbound",
            "encoding": "GSM-7",
            "errors": [],
            "from": {"carrier": "Rogers Wireless", "line_type": "Wireless", "phone_number": from_number},
            "id": message_id or str(uuid.uuid4()),
            "media": [
                {"content_type": content_type, "hash_sha256": None, "size": None, "url": url}
                for url, content_type in media
            ],
            "messaging_profile_id": "40017f8e-49bd-4f16-9e3d-ef103f916228",
            "organization_id": "b448f9cc-a842-4784-98e9-03c1a5872950",
            "parts": 1,
            "received_at": _now(),
            "record_type": "message",
            "sent_at": None,
            "subject": "",
            "tags": [],
            "text": text,
            "to": [
                {
                    "carrier": "Telnyx",
                    "line_type": "Wireless",
                    "phone_number": to_number,
                    "status": "webhook_delivered",
                }
            ],
            "type": "MMS" if media else "SMS",
            "valid_until": None,
            "webhook_failover_url": None,
            "webhook_url": "https://switchboard.example/webhooks/telnyx",
        },
    )


def status_event(
    message_id: str,
    from_number: str,
    to_number: str,
    status: str,
    errors: list[dict] | None = None,
) -> dict:
    """`message.sent` for status `sent`, otherwise `message.finalized` (delivered,
    delivery_failed, sending_failed, delivery_unconfirmed). `errors` as Telnyx lists them:
    [{"code": "40300", "title": "...", "detail": "..."}]."""
    event_type = "message.sent" if status in {"queued", "sending", "sent"} else "message.finalized"
    return _envelope(
        event_type,
        {
            "completed_at": _now() if event_type == "message.finalized" else None,
            "cost": {"amount": "0.0040", "currency": "USD"},
            "direction": "outbound",
            "encoding": "GSM-7",
            "errors": errors or [],
            "from": {"carrier": "Telnyx", "line_type": "Wireless", "phone_number": from_number},
            "id": message_id,
            "media": [],
            "messaging_profile_id": "40017f8e-49bd-4f16-9e3d-ef103f916228",
            "parts": 1,
            "record_type": "message",
            "sent_at": _now(),
            "tags": [],
            "text": "",
            "to": [
                {
                    "carrier": "Rogers Wireless",
                    "line_type": "Wireless",
                    "phone_number": to_number,
                    "status": status,
                }
            ],
            "type": "SMS",
            "valid_until": None,
        },
    )


def encode(event: dict) -> bytes:
    return json.dumps(event, separators=(",", ":")).encode()


async def post_event(
    client: httpx.AsyncClient,
    ingest_url: str,
    private_key_b64: str,
    event: dict,
    timestamp: int | None = None,
) -> httpx.Response:
    body = encode(event)
    return await client.post(
        f"{ingest_url.rstrip('/')}/webhooks/telnyx",
        content=body,
        headers=signed_headers(private_key_b64, body, timestamp),
    )
