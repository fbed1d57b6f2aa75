"""The audit line every operator call leaves: who (the operator token's name and fingerprint,
never the token), what, on which dealership, when, and how it ended. Written in the call's own
transaction when it changes something, so a change is never without its line."""

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from routing.tables import platform_audit
from shared.http.operator_auth import Operator


async def record(
    session: AsyncSession,
    operator: Operator,
    action: str,
    now: datetime,
    *,
    account_id: UUID | None = None,
    outcome: str = "ok",
    details: dict[str, Any] | None = None,
) -> None:
    await session.execute(
        platform_audit.insert().values(
            at=now,
            operator_name=operator.name,
            operator_fingerprint=operator.fingerprint,
            action=action,
            account_id=account_id,
            outcome=outcome,
            details=details or {},
        )
    )
