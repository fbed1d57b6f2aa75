"""`Idempotency-Key` on a create: the first answer is kept so a retry (a timeout, a re-run Job)
gets the same dealership instead of a second one. The answer holds the first admin's invitation
link, a secret: it is kept sealed (XSalsa20-Poly1305, key derived from the service's signing
secret), so a copy of the table opens nothing."""

import hashlib
import json
from typing import Any

from nacl.exceptions import CryptoError
from nacl.secret import SecretBox
from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from routing.platform.usecases.errors import IdempotencyKeyReused
from routing.settings import RoutingSettings
from routing.tables import platform_idempotency


def _box(settings: RoutingSettings) -> SecretBox:
    key = hashlib.sha256(("platform-idempotency:" + settings.jwt_secret.get_secret_value()).encode())
    return SecretBox(key.digest())


def request_digest(request: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


async def kept_answer(
    session: AsyncSession, settings: RoutingSettings, key: str, request: dict[str, Any]
) -> dict[str, Any] | None:
    """The answer kept for `key`, or None (the caller then creates). Serialises concurrent
    retries of one key until the transaction ends. A kept answer that can no longer be opened (the
    signing secret changed) counts as none kept: the create is refused as a duplicate then."""
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 20))"), {"key": key})
    row = (
        await session.execute(select(platform_idempotency).where(platform_idempotency.c.key == key))
    ).first()
    if row is None:
        return None
    if row.request_digest != request_digest(request):
        raise IdempotencyKeyReused("this Idempotency-Key was used for a different request")
    try:
        return json.loads(_box(settings).decrypt(row.response))
    except CryptoError:
        return None


async def keep_answer(
    session: AsyncSession,
    settings: RoutingSettings,
    key: str,
    request: dict[str, Any],
    account_id,
    answer: dict[str, Any],
) -> None:
    sealed = _box(settings).encrypt(json.dumps(answer, default=str).encode())
    await session.execute(
        insert(platform_idempotency)
        .values(
            key=key,
            request_digest=request_digest(request),
            account_id=account_id,
            response=bytes(sealed),
            created_at=func.now(),
        )
        .on_conflict_do_nothing()
    )
