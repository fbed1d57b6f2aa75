"""Inviting a colleague: the admin gives a name, an e-mail and a role, never a password. The
invitee gets a signed, single-use link by e-mail (through notifier) and sets their own password;
accepting creates the user, signed in, with no other session.

Dealer groups: someone who already works at another dealership (a person with a password) is
invited the same way, and accepting adds this dealership to their login: they confirm with the
password they already have (the link alone proves the mailbox, the password that it is them), it
stays as it is and their other sessions go on."""

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from routing.auth.usecases import password_hash, verify_password
from routing.conversations.usecases.read_state import refresh_team
from routing.domain.access_tokens import digest_matches, token_digest
from routing.domain.passwords import check_password
from routing.invitations.usecases.errors import (
    AlreadyInvited,
    EmailTaken,
    InvalidLink,
    InvalidTeams,
    InvitationNotFound,
    LinkGone,
    WrongPassword,
)
from routing.invitations.usecases.links import link_for, make_token, record_of, whole_seconds
from routing.outbox import add_event
from routing.settings import RoutingSettings
from routing.tables import accounts, invitations, people, team_members, teams, users
from shared.contracts.staff import StaffInvitationSent
from shared.contracts.topics import STAFF_INVITATION_SENT


@dataclass(frozen=True)
class NewInvitation:
    email: str
    name: str
    role: str
    team_ids: tuple[UUID, ...] = ()
    language: str | None = None


@dataclass(frozen=True)
class Invitation:
    id: UUID
    email: str
    name: str
    role: str
    team_ids: list[UUID]
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class Issued:
    """The invitation and its link. The link goes only to the e-mail (and, for a dealership's first
    admin, to the operator who created it); it is never stored nor logged."""

    invitation: Invitation
    link: str


@dataclass(frozen=True)
class Accepted:
    user_id: UUID
    account_id: UUID
    role: str


async def invite(
    session: AsyncSession,
    settings: RoutingSettings,
    account_id: UUID,
    new: NewInvitation,
    now: datetime,
    invited_by: UUID | None = None,
) -> Issued:
    email = new.email.strip()
    # Someone of another dealership (of the group) may be invited: accepting adds this one.
    taken = await session.scalar(
        select(users.c.id)
        .where(users.c.account_id == account_id, func.lower(users.c.email) == email.lower())
        .limit(1)
    )
    if taken is not None:
        raise EmailTaken("someone of your dealership already signs in with this e-mail")
    if new.team_ids:
        found = set(
            await session.scalars(
                select(teams.c.id).where(teams.c.account_id == account_id, teams.c.id.in_(new.team_ids))
            )
        )
        if missing := [str(t) for t in new.team_ids if t not in found]:
            raise InvalidTeams(f"not teams of your dealership: {', '.join(missing)}")
    same_email = (invitations.c.account_id == account_id) & (func.lower(invitations.c.email) == email.lower())
    open_ = invitations.c.accepted_at.is_(None) & invitations.c.revoked_at.is_(None)
    # An expired invitation no longer blocks a new one: it is closed here.
    await session.execute(
        update(invitations).where(same_email, open_, invitations.c.expires_at <= now).values(revoked_at=now)
    )
    invitation_id = uuid4()
    token = make_token(settings, "invitation", invitation_id)
    expires_at = now + timedelta(hours=settings.invitation_ttl_hours)
    inserted = await session.scalar(
        insert(invitations)
        .values(
            id=invitation_id,
            account_id=account_id,
            email=email,
            name=new.name,
            role=new.role,
            team_ids=list(dict.fromkeys(new.team_ids)),
            language=new.language,
            token_digest=token_digest(token),
            invited_by_user_id=invited_by,
            created_at=now,
            expires_at=expires_at,
        )
        .on_conflict_do_nothing()
        .returning(invitations.c.id)
    )
    if inserted is None:
        raise AlreadyInvited("this person already has a pending invitation; revoke it to send a new one")
    account_name = await session.scalar(select(accounts.c.name).where(accounts.c.id == account_id))
    inviter = (
        await session.scalar(select(users.c.name).where(users.c.id == invited_by)) if invited_by else None
    )
    link = link_for(settings, "invitation", token)
    event = StaffInvitationSent(
        account_id=account_id,
        invitation_id=invitation_id,
        email=email,
        name=new.name,
        role=new.role,
        account_name=account_name or "",
        language=new.language or "en",
        invited_by_name=inviter,
        link=link,
        expires_at=expires_at,
    )
    await add_event(session, STAFF_INVITATION_SENT, event, event.partition_key)
    invitation = Invitation(
        invitation_id, email, new.name, new.role, list(dict.fromkeys(new.team_ids)), now, expires_at
    )
    return Issued(invitation, link)


async def pending_invitations(session: AsyncSession, account_id: UUID, now: datetime) -> list[Invitation]:
    rows = await session.execute(
        select(invitations)
        .where(
            invitations.c.account_id == account_id,
            invitations.c.accepted_at.is_(None),
            invitations.c.revoked_at.is_(None),
            invitations.c.expires_at > now,
        )
        .order_by(invitations.c.created_at.desc(), invitations.c.id)
    )
    return [_invitation(row) for row in rows]


async def revoke_invitation(
    session: AsyncSession, account_id: UUID, invitation_id: UUID, now: datetime
) -> None:
    """The link stops working at once. An invitation already accepted (or not of this dealership)
    is not found; revoking twice is harmless."""
    row = (
        await session.execute(
            select(invitations.c.accepted_at).where(
                invitations.c.id == invitation_id, invitations.c.account_id == account_id
            )
        )
    ).first()
    if row is None or row.accepted_at is not None:
        raise InvitationNotFound("invitation not found")
    await session.execute(
        update(invitations)
        .where(invitations.c.id == invitation_id, invitations.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def accept_invitation(
    session: AsyncSession,
    settings: RoutingSettings,
    token: str,
    password: str,
    now: datetime,
    user_id: UUID | None = None,
) -> Accepted:
    """`user_id`: only the demo seed names it (its fixed ids); anyone else gets a new one."""
    invitation_id = record_of(settings, "invitation", token)
    row = (
        await session.execute(select(invitations).where(invitations.c.id == invitation_id).with_for_update())
    ).first()
    if row is None or not digest_matches(token, row.token_digest):
        raise InvalidLink("this link is not valid; ask your administrator for a new invitation")
    if row.accepted_at is not None:
        raise LinkGone("this invitation was already used: sign in, or reset your password", "invitation_used")
    if row.revoked_at is not None:
        raise LinkGone(
            "this invitation was withdrawn; ask your administrator for a new one", "invitation_revoked"
        )
    if row.expires_at <= now:
        raise LinkGone(
            "this invitation has expired; ask your administrator for a new one", "invitation_expired"
        )
    person_id, email = await _person_accepting(session, row.email, password, row.account_id, now)
    user_id = user_id or uuid4()
    created = await session.scalar(
        insert(users)
        .values(
            id=user_id,
            account_id=row.account_id,
            person_id=person_id,
            email=email,
            name=row.name,
            role=row.role,
            active=True,
            created_at=now,
        )
        .on_conflict_do_nothing()
        .returning(users.c.id)
    )
    if created is None:
        raise EmailTaken("someone already signs in with this e-mail")
    team_ids = list(
        await session.scalars(
            select(teams.c.id).where(teams.c.account_id == row.account_id, teams.c.id.in_(row.team_ids or []))
        )
    )
    if team_ids:
        await session.execute(
            insert(team_members).on_conflict_do_nothing(),
            [{"team_id": team_id, "user_id": user_id} for team_id in team_ids],
        )
        for team_id in team_ids:
            await refresh_team(session, row.account_id, team_id)
    await session.execute(
        update(invitations).where(invitations.c.id == invitation_id).values(accepted_at=now, user_id=user_id)
    )
    return Accepted(user_id=user_id, account_id=row.account_id, role=row.role)


async def _person_accepting(
    session: AsyncSession, email: str, password: str, account_id: UUID, now: datetime
) -> tuple[UUID, str]:
    """The person the invitation is for (id, and the e-mail they sign in with): someone new sets
    their password (no session of theirs exists yet); someone who already has one confirms it,
    and it stays as it is."""
    person = (
        await session.execute(
            select(people.c.id, people.c.email, people.c.password_hash)
            .where(func.lower(people.c.email) == email.lower())
            .with_for_update()
        )
    ).first()
    if person is not None and person.password_hash:
        if not await verify_password(password, person.password_hash):
            raise WrongPassword(
                "you already sign in to Switchboard with this e-mail: enter that password to join "
                "this dealership (or reset it first if you forgot it)"
            )
        await session.execute(
            update(people).where(people.c.id == person.id).values(last_account_id=account_id)
        )
        return person.id, person.email
    check_password(password, email)
    hashed = await asyncio.to_thread(password_hash.hash, password)
    values = {
        "password_hash": hashed,
        "sessions_valid_after": whole_seconds(now),
        "last_account_id": account_id,
    }
    if person is not None:
        await session.execute(update(people).where(people.c.id == person.id).values(**values))
        return person.id, person.email
    person_id = uuid4()
    await session.execute(insert(people).values(id=person_id, email=email, created_at=now, **values))
    return person_id, email


def _invitation(row) -> Invitation:
    return Invitation(
        row.id, row.email, row.name, row.role, list(row.team_ids or []), row.created_at, row.expires_at
    )
