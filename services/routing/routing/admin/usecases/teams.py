"""Teams of an account: a name and members (a user can be in several). A team that conversations
are assigned to cannot be deleted: those conversations would silently lose their owner."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from routing.admin.usecases.errors import InvalidMembers, NotInAccount, TeamInUse, TeamNameTaken
from routing.conversations.usecases.read_state import refresh_team
from routing.tables import conversations, team_members, teams, users


@dataclass(frozen=True)
class Team:
    id: UUID
    name: str
    member_ids: list[UUID]
    created_at: datetime


def teams_of(account_id: UUID) -> Select:
    return select(teams).where(teams.c.account_id == account_id)


async def list_teams(session: AsyncSession, account_id: UUID) -> list[Team]:
    rows = (await session.execute(teams_of(account_id).order_by(func.lower(teams.c.name), teams.c.id))).all()
    members = await _member_ids(session, [row.id for row in rows])
    return [Team(row.id, row.name, members.get(row.id, []), row.created_at) for row in rows]


async def get_team(session: AsyncSession, account_id: UUID, team_id: UUID) -> Team:
    row = (await session.execute(teams_of(account_id).where(teams.c.id == team_id))).first()
    if row is None:
        raise NotInAccount("team")
    members = await _member_ids(session, [team_id])
    return Team(row.id, row.name, members.get(team_id, []), row.created_at)


async def create_team(
    session: AsyncSession,
    account_id: UUID,
    name: str,
    member_ids: list[UUID],
    now: datetime,
    team_id: UUID | None = None,
) -> Team:
    """`team_id`: only the demo seed names it (its fixed ids); otherwise a new one."""
    await _refuse_taken_name(session, account_id, name, None)
    await _check_members(session, account_id, member_ids)
    team_id = team_id or uuid4()
    inserted = await session.scalar(
        insert(teams)
        .values(id=team_id, account_id=account_id, name=name, created_at=now)
        .on_conflict_do_nothing()  # (account, name): the same name created concurrently
        .returning(teams.c.id)
    )
    if inserted is None:
        raise TeamNameTaken("a team with this name already exists")
    await _insert_members(session, team_id, member_ids)
    return await get_team(session, account_id, team_id)


async def rename_team(session: AsyncSession, account_id: UUID, team_id: UUID, name: str) -> Team:
    await _lock_team(session, account_id, team_id)
    await _refuse_taken_name(session, account_id, name, team_id)
    try:
        async with session.begin_nested():
            await session.execute(update(teams).where(teams.c.id == team_id).values(name=name))
    except IntegrityError as exc:
        raise TeamNameTaken("a team with this name already exists") from exc
    return await get_team(session, account_id, team_id)


async def set_team_members(
    session: AsyncSession, account_id: UUID, team_id: UUID, user_ids: list[UUID]
) -> Team:
    """Replaces the whole member list."""
    await _lock_team(session, account_id, team_id)
    await _check_members(session, account_id, user_ids)
    await session.execute(delete(team_members).where(team_members.c.team_id == team_id))
    await _insert_members(session, team_id, user_ids)
    await refresh_team(session, account_id, team_id)
    return await get_team(session, account_id, team_id)


async def delete_team(session: AsyncSession, account_id: UUID, team_id: UUID) -> None:
    # The row lock makes a concurrent assignment to this team wait (its foreign key check needs a
    # share lock on the team), so the count below cannot miss one.
    await _lock_team(session, account_id, team_id)
    assigned = await session.scalar(
        select(func.count()).select_from(conversations).where(conversations.c.assignee_team_id == team_id)
    )
    if assigned:
        raise TeamInUse(assigned)
    await session.execute(delete(team_members).where(team_members.c.team_id == team_id))
    await session.execute(delete(teams).where(teams.c.id == team_id))


async def _lock_team(session: AsyncSession, account_id: UUID, team_id: UUID) -> None:
    found = await session.scalar(
        teams_of(account_id).with_only_columns(teams.c.id).where(teams.c.id == team_id).with_for_update()
    )
    if found is None:
        raise NotInAccount("team")


async def _refuse_taken_name(
    session: AsyncSession, account_id: UUID, name: str, team_id: UUID | None
) -> None:
    # "Service" and "service" side by side in the assign menu would only confuse.
    query = teams_of(account_id).with_only_columns(teams.c.id).where(func.lower(teams.c.name) == name.lower())
    if team_id is not None:
        query = query.where(teams.c.id != team_id)
    if await session.scalar(query.limit(1)) is not None:
        raise TeamNameTaken("a team with this name already exists")


async def _check_members(session: AsyncSession, account_id: UUID, user_ids: list[UUID]) -> None:
    """Every id must be an active user of the account. The share lock makes a concurrent
    deactivation wait for this change (and then remove the membership), or be seen here."""
    if not user_ids:
        return
    found = set(
        await session.scalars(
            select(users.c.id)
            .where(users.c.id.in_(set(user_ids)), users.c.account_id == account_id, users.c.active)
            .with_for_update(read=True)
        )
    )
    missing = [user_id for user_id in dict.fromkeys(user_ids) if user_id not in found]
    if missing:
        raise InvalidMembers(missing)


async def _insert_members(session: AsyncSession, team_id: UUID, user_ids: list[UUID]) -> None:
    unique = list(dict.fromkeys(user_ids))
    if unique:
        await session.execute(insert(team_members), [{"team_id": team_id, "user_id": u} for u in unique])


async def _member_ids(session: AsyncSession, team_ids: list[UUID]) -> dict[UUID, list[UUID]]:
    if not team_ids:
        return {}
    rows = await session.execute(
        select(team_members.c.team_id, team_members.c.user_id)
        .where(team_members.c.team_id.in_(team_ids))
        .order_by(team_members.c.user_id)
    )
    found: dict[UUID, list[UUID]] = {}
    for team_id, user_id in rows:
        found.setdefault(team_id, []).append(user_id)
    return found
