"""The DMS integrations an account's admin manages: every query is scoped by the account
(another account's integration is "not found"), secrets go in as hashes and never come out."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ingest.domain.dms_secrets import secret_hash, secret_hint


class IntegrationNameTaken(Exception):
    """The account already has an active integration of that name."""


@dataclass(frozen=True)
class SecretRow:
    hint: str | None
    created_at: datetime
    valid_until: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True)
class IntegrationRow:
    id: UUID
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    current_secret: SecretRow | None
    # Secrets a rotation is retiring that still work, the one ending last first.
    retiring_secrets: list[SecretRow]


_OWN = (
    "SELECT id, name, created_at, last_used_at, revoked_at FROM ingest.dms_integrations"
    " WHERE account_id = :account"
)


async def create_integration(
    session: AsyncSession, account_id: UUID, integration_id: UUID, name: str, secret: str
) -> None:
    """Raises IntegrationNameTaken (nothing written) when the name is the account's already."""
    try:
        async with session.begin_nested():
            await session.execute(
                text(
                    "INSERT INTO ingest.dms_integrations (id, account_id, name) VALUES (:id, :account, :name)"
                ),
                {"id": integration_id, "account": account_id, "name": name},
            )
    except IntegrityError as exc:
        raise IntegrationNameTaken(name) from exc
    await _add_secret(session, integration_id, secret)


async def _add_secret(session: AsyncSession, integration_id: UUID, secret: str) -> None:
    await session.execute(
        text(
            "INSERT INTO ingest.dms_integration_secrets (secret_sha256, integration_id, hint)"
            " VALUES (:hash, :id, :hint)"
        ),
        {"hash": secret_hash(secret), "id": integration_id, "hint": secret_hint(secret) or None},
    )


async def lock_integration(session: AsyncSession, account_id: UUID, integration_id: UUID):
    """The account's integration, locked until the transaction ends (two rotations at once are
    applied one after the other), or None."""
    return (
        await session.execute(
            text(_OWN + " AND id = :id FOR UPDATE"), {"account": account_id, "id": integration_id}
        )
    ).first()


async def rotate_secret(session: AsyncSession, integration_id: UUID, secret: str, overlap: timedelta) -> None:
    """`secret` becomes the current one; every secret still working keeps working for `overlap`
    more at most (a zero overlap ends them now). Call with the integration locked."""
    await session.execute(
        text(
            "UPDATE ingest.dms_integration_secrets SET valid_until ="
            " LEAST(coalesce(valid_until, 'infinity'::timestamptz), now() + make_interval(secs => :overlap))"
            " WHERE integration_id = :id AND (valid_until IS NULL OR valid_until > now())"
        ),
        {"id": integration_id, "overlap": overlap.total_seconds()},
    )
    await _add_secret(session, integration_id, secret)


async def revoke_integration(session: AsyncSession, integration_id: UUID) -> None:
    """Every secret of it is refused from now on (kept, like everything else: nothing deleted)."""
    await session.execute(
        text("UPDATE ingest.dms_integrations SET revoked_at = coalesce(revoked_at, now()) WHERE id = :id"),
        {"id": integration_id},
    )
    await session.execute(
        text(
            "UPDATE ingest.dms_integration_secrets SET valid_until = now()"
            " WHERE integration_id = :id AND (valid_until IS NULL OR valid_until > now())"
        ),
        {"id": integration_id},
    )


async def integrations(
    session: AsyncSession, account_id: UUID, integration_id: UUID | None = None
) -> list[IntegrationRow]:
    """The account's integrations (or the one asked for), active ones first, oldest first."""
    query = (
        _OWN
        + (" AND id = :id" if integration_id else "")
        + " ORDER BY revoked_at IS NOT NULL, created_at, id"
    )
    rows = (await session.execute(text(query), {"account": account_id, "id": integration_id})).all()
    if not rows:
        return []
    secrets = (
        await session.execute(
            text(
                "SELECT integration_id, hint, created_at, valid_until, last_used_at"
                " FROM ingest.dms_integration_secrets WHERE integration_id = ANY(:ids)"
                " AND (valid_until IS NULL OR valid_until > now()) ORDER BY valid_until DESC NULLS FIRST"
            ),
            {"ids": [row.id for row in rows]},
        )
    ).all()
    by_integration: dict[UUID, list[SecretRow]] = {}
    for s in secrets:
        by_integration.setdefault(s.integration_id, []).append(
            SecretRow(s.hint, s.created_at, s.valid_until, s.last_used_at)
        )
    found = []
    for row in rows:
        working = by_integration.get(row.id, [])
        current = next((s for s in working if s.valid_until is None), None)
        found.append(
            IntegrationRow(
                id=row.id,
                name=row.name,
                created_at=row.created_at,
                last_used_at=row.last_used_at,
                revoked_at=row.revoked_at,
                current_secret=current,
                retiring_secrets=[s for s in working if s.valid_until is not None],
            )
        )
    return found
