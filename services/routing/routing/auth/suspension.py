"""Whether a dealership is suspended, as routing's own accounts table says (the operator API,
routing/platform, sets it). Staff of a suspended dealership cannot sign in and their open
sessions end at their next call."""

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from routing.tables import accounts


def suspended_column() -> sa.ColumnElement[bool]:
    """`suspended` for a query that has `accounts` in its FROM."""
    return sa.literal(False).label("suspended")


async def is_suspended(session: AsyncSession, account_id) -> bool:
    return bool(
        await session.scalar(
            select(suspended_column()).select_from(accounts).where(accounts.c.id == account_id)
        )
    )
