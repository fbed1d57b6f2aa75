"""Creates (or leaves as it is) an account with its staff, team and number. Local use only."""

from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from routing.auth.usecases import password_hash
from routing.tables import account_phone_numbers, accounts, people, team_members, teams, users


async def seed_account(
    session: AsyncSession,
    *,
    account_id: UUID,
    name: str,
    phone: tuple[UUID, str, str],
    staff: list[tuple[UUID, str, str, str, str]],
    team: tuple[UUID, str, list[UUID]] | None = None,
) -> None:
    """`phone` is (id, e164, carrier); `staff` rows are (id, email, name, role, password)."""
    await session.execute(insert(accounts).values(id=account_id, name=name).on_conflict_do_nothing())
    number_id, e164, carrier = phone
    await session.execute(
        insert(account_phone_numbers)
        .values(id=number_id, account_id=account_id, e164=e164, carrier=carrier)
        .on_conflict_do_nothing()
    )
    for user_id, email, user_name, role, password in staff:
        # A person (one login across dealerships) behind each seat; an existing one keeps theirs.
        person_id = await session.scalar(
            select(people.c.id).where(func.lower(people.c.email) == email.lower())
        )
        if person_id is None:
            person_id = user_id
            await session.execute(
                insert(people)
                .values(id=person_id, email=email, password_hash=password_hash.hash(password))
                .on_conflict_do_nothing()
            )
        await session.execute(
            insert(users)
            .values(
                id=user_id, account_id=account_id, person_id=person_id, email=email, name=user_name, role=role
            )
            .on_conflict_do_nothing()
        )
    if team:
        team_id, team_name, member_ids = team
        await session.execute(
            insert(teams).values(id=team_id, account_id=account_id, name=team_name).on_conflict_do_nothing()
        )
        for member in member_ids:
            await session.execute(
                insert(team_members).values(team_id=team_id, user_id=member).on_conflict_do_nothing()
            )
