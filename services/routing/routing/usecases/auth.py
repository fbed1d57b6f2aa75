"""Staff log in with e-mail and password and receive a JWT."""

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
