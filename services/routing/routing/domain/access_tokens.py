"""The links that let someone set a password (an invitation, a reset): a token that names its
record and carries a random secret, signed with the service's key so a forged or mistyped one is
refused before any lookup. Only its digest is stored, so a copy of the database opens nothing;
the record says whether it was used, revoked or expired."""

import base64
import hashlib
import hmac
import secrets
from typing import Literal
from uuid import UUID

Purpose = Literal["invitation", "password_reset"]
_SECRET_BYTES = 32
_SIGNATURE_BYTES = 16


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(key: bytes, purpose: Purpose, body: str) -> str:
    return _b64(hmac.new(key, f"{purpose}:{body}".encode(), hashlib.sha256).digest()[:_SIGNATURE_BYTES])


def new_token(key: bytes, purpose: Purpose, record_id: UUID) -> str:
    body = _b64(record_id.bytes + secrets.token_bytes(_SECRET_BYTES))
    return f"{body}.{_sign(key, purpose, body)}"


def record_id_of(key: bytes, purpose: Purpose, token: str) -> UUID | None:
    """The record a well-formed token of this purpose, signed with `key`, names; None otherwise."""
    if not token.isascii():
        return None  # ours are base64url; compare_digest refuses other text with a TypeError
    body, dot, signature = token.strip().partition(".")
    if not dot or len(token) > 200 or not hmac.compare_digest(signature, _sign(key, purpose, body)):
        return None
    try:
        raw = _unb64(body)
    except ValueError:
        return None
    if len(raw) != 16 + _SECRET_BYTES:
        return None
    return UUID(bytes=raw[:16])


def token_digest(token: str) -> str:
    """What is stored: the token has 256 random bits, so a plain SHA-256 is enough."""
    return hashlib.sha256(token.strip().encode()).hexdigest()


def digest_matches(token: str, stored: str) -> bool:
    return hmac.compare_digest(token_digest(token), stored)
