"""Staff sign in with e-mail and password and receive a JWT for one dealership at a time.

A person (one e-mail, one password) may work at several dealerships of a group: signing in gives
a token for the dealership they last worked in (or the first by name) and the list of the others;
switching gives a token for another one they work at. A token's subject is the person's seat
(`users` row) in the token's dealership, so every query stays scoped to that dealership."""

import asyncio
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from pwdlib import PasswordHash
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from routing.auth.suspension import suspended_column
from routing.tables import accounts, people, users
from shared.http.auth import issue_token
from shared.http.staff import SUSPENDED
from shared.settings import ServiceSettings

password_hash = PasswordHash.recommended()
# Checked when the e-mail is unknown too, so timing does not reveal which e-mails exist.
_DUMMY_HASH = password_hash.hash("not-a-real-password")


class InvalidCredentials(Exception):
    pass


class DealershipSuspended(Exception):
    """The dealership's access to Switchboard is suspended by the operator."""


class NotAMember(LookupError):
    """The person does not work at that dealership (or is deactivated there)."""


@dataclass(frozen=True)
class Dealership:
    account_id: UUID
    name: str
    role: str
    suspended: bool = False


@dataclass(frozen=True)
class SignedIn:
    access_token: str
    user_id: UUID
    account_id: UUID
    role: str
    dealerships: list[Dealership]


async def verify_password(password: str, hashed: str | None) -> bool:
    """Argon2 is slow on purpose: off the event loop. No hash (never set) never matches."""
    if not hashed:
        await asyncio.to_thread(password_hash.verify, password, _DUMMY_HASH)
        return False
    return await asyncio.to_thread(password_hash.verify, password, hashed)


async def seats_of(session: AsyncSession, person_id: UUID) -> list[tuple[UUID, Dealership]]:
    """(user id, dealership) for every dealership where the person is active staff, by name."""
    rows = await session.execute(
        select(users.c.id, users.c.account_id, users.c.role, accounts.c.name, suspended_column())
        .join(accounts, accounts.c.id == users.c.account_id)
        .where(users.c.person_id == person_id, users.c.active)
        .order_by(func.lower(accounts.c.name), accounts.c.id)
    )
    return [
        (row.id, Dealership(row.account_id, row.name or "", row.role, bool(row.suspended))) for row in rows
    ]


async def login(session: AsyncSession, settings: ServiceSettings, email: str, password: str) -> SignedIn:
    """A deactivated user (in every dealership) is refused exactly like an unknown e-mail or a
    wrong password (same error, same hashing work), so the answer does not tell who used to work
    here. Only once the password is right does a suspended dealership say so."""
    person = (
        await session.execute(
            select(people.c.id, people.c.password_hash, people.c.last_account_id).where(
                func.lower(people.c.email) == email.strip().lower()
            )
        )
    ).first()
    if person is None:
        await verify_password(password, None)
        raise InvalidCredentials
    if not await verify_password(password, person.password_hash):
        raise InvalidCredentials
    seats = await seats_of(session, person.id)
    if not seats:
        raise InvalidCredentials
    open_seats = [(user_id, place) for user_id, place in seats if not place.suspended]
    if not open_seats:
        raise DealershipSuspended
    user_id, chosen = next(
        (seat for seat in open_seats if seat[1].account_id == person.last_account_id), open_seats[0]
    )
    return await _signed_in(session, settings, person.id, user_id, chosen, [place for _, place in seats])


async def switch_dealership(
    session: AsyncSession, settings: ServiceSettings, user_id: UUID, account_id: UUID, target: UUID
) -> SignedIn:
    """A token for `target`, one of the caller's dealerships; NotAMember otherwise (the same for
    a dealership that does not exist, so nothing is learnt about others)."""
    person_id = await person_of(session, user_id, account_id)
    if person_id is None:
        raise NotAMember
    seats = await seats_of(session, person_id)
    seat = next((seat for seat in seats if seat[1].account_id == target), None)
    if seat is None:
        raise NotAMember
    if seat[1].suspended:
        raise DealershipSuspended
    return await _signed_in(session, settings, person_id, seat[0], seat[1], [place for _, place in seats])


async def person_of(session: AsyncSession, user_id: UUID, account_id: UUID) -> UUID | None:
    """The person behind an active seat of this dealership."""
    return await session.scalar(
        select(users.c.person_id).where(
            users.c.id == user_id, users.c.account_id == account_id, users.c.active
        )
    )


async def dealerships_of(session: AsyncSession, user_id: UUID, account_id: UUID) -> list[Dealership]:
    person_id = await person_of(session, user_id, account_id)
    if person_id is None:
        return []
    return [place for _, place in await seats_of(session, person_id)]


async def _signed_in(
    session: AsyncSession,
    settings: ServiceSettings,
    person_id: UUID,
    user_id: UUID,
    chosen: Dealership,
    dealerships: list[Dealership],
) -> SignedIn:
    await session.execute(
        update(people).where(people.c.id == person_id).values(last_account_id=chosen.account_id)
    )
    token = issue_token(settings, str(user_id), chosen.account_id, chosen.role)  # type: ignore[arg-type]
    return SignedIn(token, user_id, chosen.account_id, chosen.role, dealerships)


async def current_staff_state(
    session: AsyncSession, account_id: UUID, user_id: UUID
) -> tuple[str | None, datetime | None]:
    """The role of an active user of this account, and when the person's sessions were last ended
    (a password set or reset: tokens issued before are refused); (None, None) when the user does
    not exist, was deactivated or belongs to another account (their tokens must then be
    refused); (SUSPENDED, None) when their dealership is suspended."""
    row = (
        await session.execute(
            select(users.c.role, people.c.sessions_valid_after, suspended_column())
            .join(people, people.c.id == users.c.person_id)
            .join(accounts, accounts.c.id == users.c.account_id)
            .where(users.c.id == user_id, users.c.account_id == account_id, users.c.active)
        )
    ).first()
    if row is None:
        return None, None
    if row.suspended:
        return SUSPENDED, None
    return row.role, row.sessions_valid_after
