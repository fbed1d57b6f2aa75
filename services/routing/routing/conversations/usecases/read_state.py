"""Keeps `conversations.owner_read_at` true to the read marks: called by every write that can
change it (a read mark, an assignment, a team's membership)."""

from uuid import UUID

from sqlalchemy import ColumnElement, update
from sqlalchemy.ext.asyncio import AsyncSession

from routing.conversations.queries import computed_owner_read_at
from routing.tables import conversations


async def refresh_owner_read_at(session: AsyncSession, which: ColumnElement) -> None:
    await session.execute(update(conversations).where(which).values(owner_read_at=computed_owner_read_at()))


async def refresh_conversations(session: AsyncSession, account_id: UUID, ids: list[UUID]) -> None:
    if ids:
        await refresh_owner_read_at(
            session, (conversations.c.account_id == account_id) & conversations.c.id.in_(ids)
        )


async def refresh_team(session: AsyncSession, account_id: UUID, team_id: UUID) -> None:
    """After a team's members change: what its conversations count as read changes too."""
    await refresh_owner_read_at(
        session,
        (conversations.c.account_id == account_id) & (conversations.c.assignee_team_id == team_id),
    )
