"""The operator's read side: dealerships as operators see them (every account: this is the one
place in routing that is not scoped to a caller's dealership) and the audit lines."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from routing.tables import accounts, platform_audit, users


@dataclass(frozen=True)
class Dealership:
    id: UUID
    name: str
    time_zone: str
    language: str
    status: str
    status_changed_at: datetime | None
    created_at: datetime
    staff_count: int


@dataclass(frozen=True)
class AuditLine:
    id: int
    at: datetime
    operator: str
    operator_fingerprint: str
    action: str
    account_id: UUID | None
    outcome: str
    details: dict[str, Any]


def _dealerships() -> Select:
    staff = (
        select(func.count())
        .select_from(users)
        .where(users.c.account_id == accounts.c.id, users.c.active.is_(True))
        .scalar_subquery()
    )
    return select(
        accounts.c.id,
        accounts.c.name,
        accounts.c.time_zone,
        accounts.c.language,
        accounts.c.status,
        accounts.c.status_changed_at,
        accounts.c.created_at,
        staff.label("staff_count"),
    )


def _dealership(row) -> Dealership:
    return Dealership(
        row.id,
        row.name,
        row.time_zone,
        row.language,
        row.status,
        row.status_changed_at,
        row.created_at,
        row.staff_count,
    )


async def find_dealership(session: AsyncSession, account_id: UUID) -> Dealership | None:
    row = (await session.execute(_dealerships().where(accounts.c.id == account_id))).first()
    return _dealership(row) if row else None


async def list_dealerships(
    session: AsyncSession, limit: int, after: tuple[datetime, UUID] | None = None, status: str | None = None
) -> list[Dealership]:
    """Oldest first, `limit` after the position `after` (keyset: a page never repeats or skips
    a dealership created meanwhile)."""
    query = _dealerships().order_by(accounts.c.created_at, accounts.c.id).limit(limit)
    if after is not None:
        query = query.where(tuple_(accounts.c.created_at, accounts.c.id) > tuple_(*after))
    if status is not None:
        query = query.where(accounts.c.status == status)
    return [_dealership(row) for row in await session.execute(query)]


async def audit_lines(
    session: AsyncSession, limit: int, before_id: int | None = None, account_id: UUID | None = None
) -> list[AuditLine]:
    """Newest first."""
    query = select(platform_audit).order_by(platform_audit.c.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(platform_audit.c.id < before_id)
    if account_id is not None:
        query = query.where(platform_audit.c.account_id == account_id)
    return [
        AuditLine(
            row.id,
            row.at,
            row.operator_name,
            row.operator_fingerprint,
            row.action,
            row.account_id,
            row.outcome,
            row.details,
        )
        for row in await session.execute(query)
    ]
