"""What an admin may give ingest to verify a carrier's webhooks, checked before it is stored: a
Twilio AccountSid and auth token, a Telnyx Ed25519 public key. Plain functions."""

import base64
import binascii
import re

from nacl.bindings import crypto_sign_ed25519_pk_to_curve25519
from nacl.exceptions import CryptoError

# Twilio account SIDs are "AC" and 32 lowercase hex digits; webhooks name it exactly so.
TWILIO_ACCOUNT_SID = re.compile(r"^AC[0-9a-f]{32}$")
# Printable ASCII without spaces: what carriers issue; anything else is a copy-paste accident.
SECRET_CHARACTERS = re.compile(r"^[!-~]+$")
ED25519_PUBLIC_KEY_BYTES = 32
# Below this length even four characters are too large a share of the secret to show.
_HINT_MIN_LENGTH = 16
HINT_MASK = "••••"


def normalize_twilio_sid(value: str) -> str:
    """The SID as Twilio writes it (hex digits in lower case); ValueError if it is not one."""
    value = value.strip()
    candidate = value[:2] + value[2:].lower()
    if not TWILIO_ACCOUNT_SID.fullmatch(candidate):
        raise ValueError("a Twilio Account SID is AC followed by 32 hexadecimal digits")
    return candidate


def check_secret(value: str, min_length: int, max_length: int = 256) -> str:
    """The secret without surrounding whitespace; ValueError (naming no part of it) if unusable."""
    value = value.strip()
    if not min_length <= len(value) <= max_length:
        raise ValueError(f"must be {min_length} to {max_length} characters")
    if not SECRET_CHARACTERS.fullmatch(value):
        raise ValueError("must be printable ASCII without spaces")
    return value


def normalize_ed25519_public_key(value: str) -> str:
    """A base64 Ed25519 public key as Telnyx shows it, re-encoded canonically; ValueError when it
    is not base64, not 32 bytes, or not a point an Ed25519 signature could be checked against
    (libsodium's own test, the one it applies before verifying)."""
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("the public key is not base64") from exc
    if len(raw) != ED25519_PUBLIC_KEY_BYTES:
        raise ValueError(f"an Ed25519 public key is {ED25519_PUBLIC_KEY_BYTES} bytes, not {len(raw)}")
    try:
        crypto_sign_ed25519_pk_to_curve25519(raw)
    except (CryptoError, RuntimeError, ValueError) as exc:
        raise ValueError("not a valid Ed25519 public key") from exc
    return base64.b64encode(raw).decode("ascii")


def secret_hint(secret: str) -> str:
    """Enough for an admin to tell which secret is stored: its last four characters, masked."""
    if len(secret) < _HINT_MIN_LENGTH:
        return HINT_MASK
    return f"{HINT_MASK}{secret[-4:]}"
