"""The Telnyx Ed25519 public key an admin gives ingest to verify that carrier's webhooks, checked
before it is stored. The Twilio AccountSid and auth token are checked by the rules notifier uses
too (shared.carriers.credentials). Plain functions."""

import base64
import binascii

from nacl.bindings import crypto_sign_ed25519_pk_to_curve25519
from nacl.exceptions import CryptoError

ED25519_PUBLIC_KEY_BYTES = 32


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
