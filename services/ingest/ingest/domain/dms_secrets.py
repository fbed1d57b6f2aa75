"""The rules of DMS integration secrets, without a database: what a secret looks like, what is
kept of it, and how long a rotated secret keeps working.

A secret is `sbdms_` and 43 URL-safe characters (256 random bits): the prefix lets secret
scanners (and people) recognise one. Only its SHA-256 is stored, and a hint (the prefix and four
random characters) that tells an admin which secret an integrator holds without revealing it."""

import hashlib
import secrets
from datetime import datetime, timedelta

SECRET_PREFIX = "sbdms_"
HINT_RANDOM_CHARACTERS = 4
# An overlap longer than a week would leave a leaked secret working for too long.
MAX_OVERLAP = timedelta(days=7)


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_hint(secret: str) -> str:
    """`sbdms_AbCd…` for our secrets; secrets made elsewhere (the demo's) get none."""
    if not secret.startswith(SECRET_PREFIX):
        return ""
    return secret[: len(SECRET_PREFIX) + HINT_RANDOM_CHARACTERS] + "…"


def retired_secret_valid_until(now: datetime, overlap: timedelta) -> datetime:
    """Until when the secret a rotation replaces keeps working: the integrator switches to the
    new one within it without losing an event. A zero overlap ends it at once (a leaked secret)."""
    if overlap < timedelta(0) or overlap > MAX_OVERLAP:
        raise ValueError(f"the overlap must be between 0 and {MAX_OVERLAP}")
    return now + overlap


def last_use_is_stale(last_used_at: datetime | None, now: datetime, every: timedelta) -> bool:
    """Whether an authenticated request should write "last used": at most once per `every`, so a
    busy integration costs no write per request."""
    return last_used_at is None or now - last_used_at >= every
