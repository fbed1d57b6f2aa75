"""Whether a dealership is suspended, as routing's own accounts table says (the operator API,
routing/platform, sets `accounts.status`). Staff of a suspended dealership cannot sign in, their
open sessions end at their next call, and it sends nothing; nothing is deleted."""

from uuid import UUID

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from routing.tables import accounts

SUSPENDED = "suspended"


def suspended_column() -> sa.ColumnElement[bool]:
    """`suspended` for a query that has `accounts` in its FROM."""
    return (accounts.c.status == SUSPENDED).label("suspended")


async def is_suspended(session: AsyncSession, account_id: UUID) -> bool:
    return bool(
        await session.scalar(select(accounts.c.status == SUSPENDED).where(accounts.c.id == account_id))
    )
