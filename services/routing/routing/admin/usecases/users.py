"""Staff of an account: list, change, deactivate (colleagues join by invitation, see
routing/invitations, and set their own password). Nobody is ever deleted: a deactivated
user keeps their messages, notes and assignments in every timeline, can no longer log in, and
their tokens stop working. The account always keeps at least one active admin."""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from routing.admin.usecases.errors import CannotChangeSelf, EmailTaken, LastAdmin, NotInAccount
from routing.auth.suspension import suspended_column
from routing.conversations.usecases.read_state import refresh_team
from routing.tables import accounts, people, team_members, teams, users

StaffRole = Literal["admin", "agent"]


@dataclass(frozen=True)
class StaffMember:
    id: UUID
    name: str
    email: str
    role: StaffRole
    active: bool
    deactivated_at: datetime | None
    created_at: datetime
    team_ids: list[UUID]
    language: str | None = None
    time_zone: str | None = None
    sessions_valid_after: datetime | None = None
    # The dealership is suspended: other services refuse this user's token (shared/http/staff.py).
    account_suspended: bool = False


# The languages the web inbox speaks; a user's own choice is one of them or null (the browser's).
LANGUAGES: tuple[str, ...] = ("en", "fr_CA")


@dataclass(frozen=True)
class StaffChanges:
    """None leaves a field as it is."""

    name: str | None = None
    email: str | None = None
    role: StaffRole | None = None
    active: bool | None = None


def users_of(account_id: UUID) -> Select:
    """The account's staff, with what belongs to the person behind each (one login across the
    dealerships of a group: when their sessions were last ended) and the dealership's state."""
    return (
        select(users, people.c.sessions_valid_after, suspended_column())
        .join(people, people.c.id == users.c.person_id)
        .join(accounts, accounts.c.id == users.c.account_id)
        .where(users.c.account_id == account_id)
    )


async def list_staff(
    session: AsyncSession, account_id: UUID, active: bool | None = None
) -> list[StaffMember]:
    query = users_of(account_id).order_by(func.lower(users.c.name), users.c.id)
    if active is not None:
        query = query.where(users.c.active.is_(active))
    rows = (await session.execute(query)).all()
    team_ids = await _team_ids(session, account_id, [row.id for row in rows])
    return [_member(row, team_ids.get(row.id, [])) for row in rows]


async def get_staff_member(session: AsyncSession, account_id: UUID, user_id: UUID) -> StaffMember:
    row = (await session.execute(users_of(account_id).where(users.c.id == user_id))).first()
    if row is None:
        raise NotInAccount("user")
    team_ids = await _team_ids(session, account_id, [user_id])
    return _member(row, team_ids.get(user_id, []))


async def change_staff_member(
    session: AsyncSession,
    account_id: UUID,
    actor_user_id: UUID,
    user_id: UUID,
    changes: StaffChanges,
    now: datetime,
) -> StaffMember:
    # One admin change per account at a time, so two admins demoting each other at once cannot
    # leave the account with none.
    await session.execute(select(accounts.c.id).where(accounts.c.id == account_id).with_for_update())
    target = (await session.execute(users_of(account_id).where(users.c.id == user_id))).first()
    if target is None:
        raise NotInAccount("user")

    demoting = target.role == "admin" and changes.role == "agent"
    deactivating = target.active and changes.active is False
    if (demoting or deactivating) and user_id == actor_user_id:
        raise CannotChangeSelf("you cannot deactivate or demote yourself; ask another admin")
    if (demoting or deactivating) and target.role == "admin" and target.active:
        other_admins = await session.scalar(
            select(func.count())
            .select_from(users)
            .where(
                users.c.account_id == account_id,
                users.c.role == "admin",
                users.c.active,
                users.c.id != user_id,
            )
        )
        if not other_admins:
            raise LastAdmin("the account must keep at least one active admin")

    values: dict = {}
    if changes.name is not None:
        values["name"] = changes.name
    if changes.email is not None and changes.email != target.email:
        await _change_login_email(session, target.person_id, target.email, changes.email)
    if changes.role is not None:
        values["role"] = changes.role
    if deactivating:
        values.update(active=False, deactivated_at=now)
        # A deactivated colleague is no longer part of any team (team notifications and "read by
        # the team" only count people who still work there); their history stays.
        left = await session.scalars(
            delete(team_members).where(team_members.c.user_id == user_id).returning(team_members.c.team_id)
        )
        for team_id in list(left):
            await refresh_team(session, account_id, team_id)
    elif changes.active is True and not target.active:
        values.update(active=True, deactivated_at=None)
    if values:
        try:
            async with session.begin_nested():
                await session.execute(update(users).where(users.c.id == user_id).values(**values))
        except IntegrityError as exc:  # a concurrent change took the e-mail meanwhile
            raise EmailTaken("this e-mail is already used") from exc
    return await get_staff_member(session, account_id, user_id)


async def _change_login_email(session: AsyncSession, person_id: UUID, current: str, email: str) -> None:
    """The e-mail is the person's login, across every dealership (a trigger copies it to each of
    their `users` rows). Someone who also works at another dealership changes it there too, so
    one dealership's admin may not: they would change a login another dealership relies on."""
    seats = await session.scalar(
        select(func.count()).select_from(users).where(users.c.person_id == person_id)
    )
    if seats > 1:
        raise EmailTaken("this person also works at another dealership; their e-mail cannot be changed here")
    if email.lower() != current.lower():
        # Across every account: the e-mail is the login. Which account uses it is not said.
        taken = await session.scalar(
            select(people.c.id).where(func.lower(people.c.email) == email.lower()).limit(1)
        )
        if taken is not None:
            raise EmailTaken("this e-mail is already used")
    try:
        async with session.begin_nested():
            await session.execute(update(people).where(people.c.id == person_id).values(email=email))
    except IntegrityError as exc:  # a concurrent change took the e-mail meanwhile
        raise EmailTaken("this e-mail is already used") from exc


async def _team_ids(session: AsyncSession, account_id: UUID, user_ids: list[UUID]) -> dict[UUID, list[UUID]]:
    if not user_ids:
        return {}
    rows = await session.execute(
        select(team_members.c.user_id, team_members.c.team_id)
        .join(teams, teams.c.id == team_members.c.team_id)
        .where(teams.c.account_id == account_id, team_members.c.user_id.in_(user_ids))
        .order_by(team_members.c.team_id)
    )
    found: dict[UUID, list[UUID]] = {}
    for user_id, team_id in rows:
        found.setdefault(user_id, []).append(team_id)
    return found


def _member(row, team_ids: list[UUID]) -> StaffMember:
    return StaffMember(
        id=row.id,
        name=row.name,
        email=row.email,
        role=row.role,
        active=row.active,
        deactivated_at=row.deactivated_at,
        created_at=row.created_at,
        team_ids=team_ids,
        language=row.language,
        time_zone=row.time_zone,
        sessions_valid_after=row.sessions_valid_after,
        account_suspended=bool(row.suspended),
    )


async def set_own_preferences(
    session: AsyncSession, account_id: UUID, user_id: UUID, changes: dict[str, str | None]
) -> StaffMember:
    """A staff member's own language and time zone (null: the browser's language, the
    dealership's zone). Only the keys given change; they were validated by the caller."""
    allowed = {key: value for key, value in changes.items() if key in ("language", "time_zone")}
    if allowed:
        await session.execute(
            update(users).where(users.c.id == user_id, users.c.account_id == account_id).values(**allowed)
        )
    return await get_staff_member(session, account_id, user_id)
