"""Forgotten passwords: whoever asks gets the same answer whether the e-mail is known or not; an
active user of it is e-mailed a signed, single-use link (a few per hour at most), and setting a
new password through it ends every other session of theirs."""

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from routing.auth.usecases import password_hash
from routing.domain.access_tokens import digest_matches, token_digest
from routing.domain.passwords import check_password
from routing.invitations.usecases.errors import InvalidLink, LinkGone
from routing.invitations.usecases.links import link_for, make_token, record_of, whole_seconds
from routing.outbox import add_event
from routing.settings import RoutingSettings
from routing.tables import accounts, invitations, password_resets, people, users
from shared.contracts.staff import PasswordResetRequested
from shared.contracts.topics import STAFF_PASSWORD_RESET_REQUESTED


@dataclass(frozen=True)
class PasswordReset:
    user_id: UUID
    account_id: UUID
    role: str
    # (account, user) of the person's seats at other dealerships: their sessions ended too.
    other_seats: tuple[tuple[UUID, UUID], ...] = ()


async def request_reset(session: AsyncSession, settings: RoutingSettings, email: str, now: datetime) -> bool:
    """True when an e-mail was queued (the API never says so)."""
    # A person of several dealerships gets one e-mail, from the dealership they last worked in.
    user = (
        await session.execute(
            select(users.c.id, users.c.account_id, users.c.email, users.c.name, users.c.person_id)
            .join(people, people.c.id == users.c.person_id)
            .where(func.lower(people.c.email) == email.strip().lower(), users.c.active)
            .order_by(users.c.account_id != people.c.last_account_id, users.c.created_at)
            .limit(1)
            .with_for_update(of=people)  # two requests at once count one after the other
        )
    ).first()
    if user is None:
        return False
    recent = await session.scalar(
        select(func.count())
        .select_from(password_resets.join(users, users.c.id == password_resets.c.user_id))
        .where(users.c.person_id == user.person_id, password_resets.c.created_at > now - timedelta(hours=1))
    )
    if recent >= settings.password_resets_per_hour:
        return False
    reset_id = uuid4()
    token = make_token(settings, "password_reset", reset_id)
    expires_at = now + timedelta(minutes=settings.password_reset_ttl_minutes)
    await session.execute(
        password_resets.insert().values(
            id=reset_id,
            user_id=user.id,
            token_digest=token_digest(token),
            created_at=now,
            expires_at=expires_at,
        )
    )
    account_name = await session.scalar(select(accounts.c.name).where(accounts.c.id == user.account_id))
    # Their language as far as routing knows it: the one they were invited in.
    language = await session.scalar(
        select(invitations.c.language).where(invitations.c.user_id == user.id).limit(1)
    )
    event = PasswordResetRequested(
        account_id=user.account_id,
        reset_id=reset_id,
        user_id=user.id,
        email=user.email,
        name=user.name,
        account_name=account_name or "",
        language=language if language in ("en", "fr_CA") else "en",
        link=link_for(settings, "password_reset", token),
        expires_at=expires_at,
    )
    await add_event(session, STAFF_PASSWORD_RESET_REQUESTED, event, event.partition_key)
    return True


async def reset_password(
    session: AsyncSession, settings: RoutingSettings, token: str, password: str, now: datetime
) -> PasswordReset:
    reset_id = record_of(settings, "password_reset", token)
    row = (
        await session.execute(
            select(password_resets).where(password_resets.c.id == reset_id).with_for_update()
        )
    ).first()
    if row is None or not digest_matches(token, row.token_digest):
        raise InvalidLink("this link is not valid; ask for a new one")
    if row.used_at is not None:
        raise LinkGone("this reset link was already used; ask for a new one if you need to", "reset_used")
    if row.expires_at <= now:
        raise LinkGone("this reset link has expired; ask for a new one", "reset_expired")
    user = (
        await session.execute(
            select(users.c.id, users.c.account_id, users.c.email, users.c.role, users.c.person_id).where(
                users.c.id == row.user_id, users.c.active
            )
        )
    ).first()
    if user is None:
        raise InvalidLink("this link is not valid; ask for a new one")
    check_password(password, user.email)
    hashed = await asyncio.to_thread(password_hash.hash, password)
    # The person's one password: every dealership of theirs, every session of theirs ends.
    await session.execute(
        update(people)
        .where(people.c.id == user.person_id)
        .values(password_hash=hashed, sessions_valid_after=whole_seconds(now))
    )
    # This link and any other one still out for this person stop working.
    seats = select(users.c.id).where(users.c.person_id == user.person_id)
    await session.execute(
        update(password_resets)
        .where(password_resets.c.user_id.in_(seats), password_resets.c.used_at.is_(None))
        .values(used_at=now)
    )
    others = await session.execute(
        select(users.c.account_id, users.c.id).where(
            users.c.person_id == user.person_id, users.c.id != user.id
        )
    )
    return PasswordReset(
        user_id=user.id, account_id=user.account_id, role=user.role, other_seats=tuple(map(tuple, others))
    )
