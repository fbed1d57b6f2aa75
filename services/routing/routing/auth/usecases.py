"""Staff log in with e-mail and password and receive a JWT."""

from datetime import datetime
from uuid import UUID

from pwdlib import PasswordHash
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from routing.tables import users
from shared.http.auth import issue_token
from shared.settings import ServiceSettings

password_hash = PasswordHash.recommended()
# Checked when the e-mail is unknown too, so timing does not reveal which e-mails exist.
_DUMMY_HASH = password_hash.hash("not-a-real-password")


class InvalidCredentials(Exception):
    pass


async def login(session: AsyncSession, settings: ServiceSettings, email: str, password: str) -> str:
    """A deactivated user is refused exactly like an unknown e-mail or a wrong password (same
    error, same hashing work), so the answer does not tell who used to work here."""
    user = (
        await session.execute(
            select(users.c.id, users.c.account_id, users.c.role, users.c.password_hash).where(
                func.lower(users.c.email) == email.strip().lower(), users.c.active
            )
        )
    ).first()
    if user is None:
        password_hash.verify(password, _DUMMY_HASH)
        raise InvalidCredentials
    if not password_hash.verify(password, user.password_hash):
        raise InvalidCredentials
    return issue_token(settings, str(user.id), user.account_id, user.role)


async def current_staff_state(
    session: AsyncSession, account_id: UUID, user_id: UUID
) -> tuple[str | None, datetime | None]:
    """The role of an active user of this account, and when their sessions were last ended (a
    password set or reset: tokens issued before are refused); (None, None) when the user does not
    exist, was deactivated or belongs to another account (their tokens must then be refused)."""
    row = (
        await session.execute(
            select(users.c.role, users.c.sessions_valid_after).where(
                users.c.id == user_id, users.c.account_id == account_id, users.c.active
            )
        )
    ).first()
    return (row.role, row.sessions_valid_after) if row else (None, None)
