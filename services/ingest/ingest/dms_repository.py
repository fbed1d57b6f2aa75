"""ingest's DMS queries: integrations by secret, and the events it refused."""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ingest.domain.dms_secrets import last_use_is_stale, secret_hash, secret_hint


@dataclass(frozen=True)
class Integration:
    id: UUID
    account_id: UUID
    name: str


@dataclass(frozen=True)
class StoredRejection:
    id: UUID
    event_id: str | None
    reason: str
    errors: list[dict]
    payload: str
    received_at: datetime


async def save_dms_integration(
    session: AsyncSession, integration_id: UUID, account_id: UUID, name: str, secret: str
) -> None:
    """For seeding and tests: creates the integration, or makes `secret` its only secret
    (idempotent); only the secret's hash is stored. Admins go through
    `dms_integrations_repository`."""
    await session.execute(
        text(
            "INSERT INTO ingest.dms_integrations (id, account_id, name) VALUES (:id, :account, :name)"
            " ON CONFLICT (id) DO UPDATE SET account_id = excluded.account_id, name = excluded.name,"
            " revoked_at = NULL"
        ),
        {"id": integration_id, "account": account_id, "name": name},
    )
    await session.execute(
        text(
            "DELETE FROM ingest.dms_integration_secrets WHERE integration_id = :id AND secret_sha256 <> :hash"
        ),
        {"id": integration_id, "hash": secret_hash(secret)},
    )
    await session.execute(
        text(
            "INSERT INTO ingest.dms_integration_secrets (secret_sha256, integration_id, hint)"
            " VALUES (:hash, :id, :hint) ON CONFLICT (secret_sha256) DO UPDATE"
            " SET integration_id = excluded.integration_id, valid_until = NULL"
        ),
        {"id": integration_id, "hash": secret_hash(secret), "hint": secret_hint(secret) or None},
    )


async def integration_by_secret(
    sessions: async_sessionmaker[AsyncSession], secret: str, touch_every: timedelta = timedelta(minutes=1)
) -> Integration | None:
    """The integration a secret authenticates: not revoked, the secret current or still in its
    rotation overlap. Marks the secret and the integration used, at most once per `touch_every`."""
    digest = secret_hash(secret)
    async with sessions() as session:
        row = (
            await session.execute(
                text(
                    "SELECT i.id, i.account_id, i.name, s.last_used_at, now() AS now"
                    " FROM ingest.dms_integration_secrets s"
                    " JOIN ingest.dms_integrations i ON i.id = s.integration_id"
                    " WHERE s.secret_sha256 = :hash AND i.revoked_at IS NULL"
                    " AND (s.valid_until IS NULL OR s.valid_until > now())"
                ),
                {"hash": digest},
            )
        ).first()
        if row is None:
            return None
        if last_use_is_stale(row.last_used_at, row.now, touch_every):
            await _mark_used(session, digest, row.id)
            await session.commit()
    return Integration(row.id, row.account_id, row.name)


async def _mark_used(session: AsyncSession, digest: str, integration_id: UUID) -> None:
    await session.execute(
        text("UPDATE ingest.dms_integration_secrets SET last_used_at = now() WHERE secret_sha256 = :hash"),
        {"hash": digest},
    )
    await session.execute(
        text("UPDATE ingest.dms_integrations SET last_used_at = now() WHERE id = :id"),
        {"id": integration_id},
    )


async def record_dms_rejections(
    session: AsyncSession, integration: Integration, rejections: list[dict]
) -> None:
    """`rejections`: dicts with id, event_id, reason, errors, payload, received_at."""
    if not rejections:
        return
    await session.execute(
        text(
            "INSERT INTO ingest.dms_rejections"
            " (id, integration_id, account_id, event_id, reason, errors, payload, received_at)"
            " VALUES (:id, :integration, :account, :event_id, :reason, CAST(:errors AS jsonb), :payload,"
            " :received_at)"
        ),
        [
            {
                **rejection,
                "errors": json.dumps(rejection["errors"]),
                "integration": integration.id,
                "account": integration.account_id,
            }
            for rejection in rejections
        ],
    )


async def dms_rejections_page(
    session: AsyncSession, integration: Integration, limit: int, after: tuple[datetime, UUID] | None
) -> list[StoredRejection]:
    """Newest first; `after` is the (received_at, id) of the last row of the previous page."""
    query = (
        "SELECT id, event_id, reason, errors, payload, received_at FROM ingest.dms_rejections"
        " WHERE integration_id = :integration"
    )
    params: dict = {"integration": integration.id, "n": limit}
    if after is not None:
        query += " AND (received_at, id) < (:at, :row_id)"
        params.update(at=after[0], row_id=after[1])
    query += " ORDER BY received_at DESC, id DESC LIMIT :n"
    rows = (await session.execute(text(query), params)).all()
    return [
        StoredRejection(row.id, row.event_id, row.reason, row.errors, row.payload, row.received_at)
        for row in rows
    ]
