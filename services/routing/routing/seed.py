"""Creates (or leaves as it is) a dealership with its staff, team and numbers through routing's
own use cases, the way an operator and its admin would: the operator use case provisions the
dealership and invites its first admin, each colleague is invited by that admin, and every
invitation is accepted with the given password (so passwords are checked and hashed as anyone's).
The demo seed (devtools/seed.py) and the tests' dealerships use it; ids are the caller's so the
demo's stay fixed. Local use and tests only: it sets passwords for people."""

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from routing.admin.usecases.numbers import add_number
from routing.admin.usecases.teams import create_team
from routing.invitations.usecases import invitations as invites
from routing.platform.queries import find_dealership
from routing.platform.usecases.dealerships import NewDealership, create_dealership
from routing.settings import RoutingSettings
from routing.tables import account_phone_numbers, teams, users
from shared.http.operator_auth import Operator

# Who the audit trail says created a seeded dealership: no operator token is involved.
SEED_OPERATOR = Operator(name="seed", fingerprint="local")


@dataclass(frozen=True)
class SeededStaff:
    id: UUID
    email: str
    name: str
    role: str
    password: str


async def seed_account(
    session: AsyncSession,
    *,
    account_id: UUID,
    name: str,
    phone: tuple[UUID, str, str] | None,
    staff: list[tuple[UUID, str, str, str, str]],
    team: tuple[UUID, str, list[UUID]] | None = None,
    time_zone: str = "America/Toronto",
    language: str = "en",
    settings: RoutingSettings | None = None,
) -> None:
    """`phone` is (id, e164, carrier) (the id is the caller's wish only: numbers get their own);
    `staff` rows are (id, email, name, role, password), the first admin first; `team` is (id,
    name, member ids). Idempotent: what exists is left as it is."""
    settings = settings or RoutingSettings()
    now = datetime.now(UTC)
    people = [SeededStaff(*row) for row in staff]
    if await find_dealership(session, account_id) is None:
        first_admin = next(person for person in people if person.role == "admin")
        new = NewDealership(name, time_zone, language, first_admin.name, first_admin.email, account_id)  # type: ignore[arg-type]
        created = await create_dealership(session, settings, new, SEED_OPERATOR, now)
        await _accept(session, settings, created.dealership.invitation_link, first_admin, now)
    if phone is not None:
        _, e164, carrier = phone
        owned = await session.scalar(
            select(account_phone_numbers.c.id).where(
                account_phone_numbers.c.account_id == account_id, account_phone_numbers.c.e164 == e164
            )
        )
        if owned is None:
            await add_number(
                session, account_id, e164, carrier, "long_code", settings.default_phone_region, now
            )  # type: ignore[arg-type]
    team_ids: tuple[UUID, ...] = ()
    if team is not None:
        team_id, team_name, _ = team
        if await session.scalar(select(teams.c.id).where(teams.c.id == team_id)) is None:
            await create_team(session, account_id, team_name, [], now, team_id=team_id)
        team_ids = (team_id,)
    admin_id = await session.scalar(
        select(users.c.id).where(users.c.account_id == account_id, users.c.role == "admin").limit(1)
    )
    for person in people:
        if await session.scalar(select(users.c.id).where(users.c.id == person.id)) is not None:
            continue
        joins = team_ids if team is not None and person.id in team[2] else ()
        invitation = invites.NewInvitation(person.email, person.name, person.role, joins)
        issued = await invites.invite(session, settings, account_id, invitation, now, invited_by=admin_id)
        await _accept(session, settings, issued.link, person, now)


async def _accept(
    session: AsyncSession, settings: RoutingSettings, link: str, person: SeededStaff, now: datetime
) -> None:
    token = parse_qs(urlsplit(link).query)["token"][0]
    await invites.accept_invitation(session, settings, token, person.password, now, user_id=person.id)
