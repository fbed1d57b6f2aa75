"""ingest's DMS queries: integrations by secret, and the events it refused."""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


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


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def save_dms_integration(
    session: AsyncSession, integration_id: UUID, account_id: UUID, name: str, secret: str
) -> None:
    """Creates or updates an integration (idempotent); only the secret's hash is stored."""
    await session.execute(
        text(
            "INSERT INTO ingest.dms_integrations (id, account_id, name, secret_sha256)"
            " VALUES (:id, :account, :name, :hash) ON CONFLICT (id) DO UPDATE SET"
            " account_id = excluded.account_id, name = excluded.name, secret_sha256 = excluded.secret_sha256"
        ),
        {"id": integration_id, "account": account_id, "name": name, "hash": secret_hash(secret)},
    )


async def integration_by_secret(
    sessions: async_sessionmaker[AsyncSession], secret: str
) -> Integration | None:
    async with sessions() as session:
        row = (
            await session.execute(
                text(
                    "SELECT id, account_id, name FROM ingest.dms_integrations"
                    " WHERE secret_sha256 = :hash AND active"
                ),
                {"hash": secret_hash(secret)},
            )
        ).first()
    return Integration(row.id, row.account_id, row.name) if row else None


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
