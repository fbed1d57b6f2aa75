"""Provisioning, suspending and resuming a dealership. A use case each: decide, write routing's
own part (the account, the first admin's invitation), add the events other services provision
from, the audit line, commit (the caller's transaction).

routing owns the account; ingest, notifier and the others keep their own part from
`dealership.provisioned.v1` or their own API: nothing here writes another service's schema."""

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID, uuid4

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from routing.invitations.usecases import invitations as invites
from routing.invitations.usecases.errors import AlreadyInvited, EmailTaken
from routing.outbox import add_event
from routing.platform.queries import Dealership, find_dealership
from routing.platform.usecases import audit, idempotency
from routing.platform.usecases.errors import AdminEmailTaken, DealershipExists, DealershipNotFound
from routing.settings import RoutingSettings
from routing.tables import accounts
from shared.contracts.dealership import DealershipProvisioned, DealershipResumed, DealershipSuspended
from shared.contracts.topics import DEALERSHIP_PROVISIONED, DEALERSHIP_RESUMED, DEALERSHIP_SUSPENDED
from shared.http.operator_auth import Operator

Language = Literal["en", "fr_CA"]


@dataclass(frozen=True)
class NewDealership:
    name: str
    time_zone: str
    language: Language
    admin_name: str
    admin_email: str
    # Only the demo seed names the id (its fixed ids); an operator's create gets a new one.
    account_id: UUID | None = None


@dataclass(frozen=True)
class ProvisionedDealership:
    """What a create answers: the dealership and its first admin's invitation. The link is a
    secret for the operator to hand over (it is also e-mailed): never logged nor audited."""

    account_id: UUID
    name: str
    time_zone: str
    language: Language
    status: str
    created_at: datetime
    admin_name: str
    admin_email: str
    invitation_id: UUID
    invitation_link: str
    invitation_expires_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            key: str(value) if isinstance(value, UUID | datetime) else value
            for key, value in asdict(self).items()
        }

    @classmethod
    def from_json(cls, kept: dict[str, Any]) -> "ProvisionedDealership":
        return cls(
            **{
                **kept,
                "account_id": UUID(kept["account_id"]),
                "invitation_id": UUID(kept["invitation_id"]),
                "created_at": datetime.fromisoformat(kept["created_at"]),
                "invitation_expires_at": datetime.fromisoformat(kept["invitation_expires_at"]),
            }
        )


@dataclass(frozen=True)
class Created:
    dealership: ProvisionedDealership
    # False when an Idempotency-Key retry answered the dealership created the first time.
    created: bool


async def create_dealership(
    session: AsyncSession,
    settings: RoutingSettings,
    new: NewDealership,
    operator: Operator,
    now: datetime,
    idempotency_key: str | None = None,
) -> Created:
    request = {k: v for k, v in asdict(new).items() if k != "account_id"} | {
        "account_id": str(new.account_id)
    }
    if idempotency_key is not None:
        kept = await idempotency.kept_answer(session, settings, idempotency_key, request)
        if kept is not None:
            dealership = ProvisionedDealership.from_json(kept)
            await audit.record(
                session,
                operator,
                "dealership.create",
                now,
                account_id=dealership.account_id,
                outcome="replayed",
            )
            return Created(dealership, created=False)
    account_id = new.account_id or uuid4()
    inserted = await session.scalar(
        insert(accounts)
        .values(
            id=account_id,
            name=new.name,
            time_zone=new.time_zone,
            language=new.language,
            status="active",
            status_changed_at=now,
            created_at=now,
        )
        .on_conflict_do_nothing()
        .returning(accounts.c.id)
    )
    if inserted is None:
        raise DealershipExists(f"dealership {account_id} already exists")
    provisioned = DealershipProvisioned(
        account_id=account_id, name=new.name, time_zone=new.time_zone, language=new.language, occurred_at=now
    )
    await add_event(session, DEALERSHIP_PROVISIONED, provisioned, provisioned.partition_key)
    try:
        issued = await invites.invite(
            session,
            settings,
            account_id,
            invites.NewInvitation(new.admin_email, new.admin_name, "admin", language=new.language),
            now,
        )
    except (EmailTaken, AlreadyInvited) as exc:
        raise AdminEmailTaken("someone already signs in with the first admin's e-mail") from exc
    dealership = ProvisionedDealership(
        account_id=account_id,
        name=new.name,
        time_zone=new.time_zone,
        language=new.language,
        status="active",
        created_at=now,
        admin_name=new.admin_name,
        admin_email=issued.invitation.email,
        invitation_id=issued.invitation.id,
        invitation_link=issued.link,
        invitation_expires_at=issued.invitation.expires_at,
    )
    if idempotency_key is not None:
        await idempotency.keep_answer(
            session, settings, idempotency_key, request, account_id, dealership.to_json()
        )
    await audit.record(
        session,
        operator,
        "dealership.create",
        now,
        account_id=account_id,
        details={
            "name": new.name,
            "time_zone": new.time_zone,
            "language": new.language,
            "admin_email": issued.invitation.email,
            "invitation_id": str(issued.invitation.id),
        },
    )
    return Created(dealership, created=True)


async def suspend_dealership(
    session: AsyncSession, account_id: UUID, operator: Operator, now: datetime, reason: str | None = None
) -> Dealership:
    """Stores the state and announces it; what suspension refuses is each service's own doing
    (from the event or routing's account). Suspending a suspended dealership changes nothing."""
    changed = await _set_status(session, account_id, "suspended", now)
    if changed:
        event = DealershipSuspended(
            account_id=account_id, reason=reason, suspended_by=operator.name, occurred_at=now
        )
        await add_event(session, DEALERSHIP_SUSPENDED, event, event.partition_key)
    await audit.record(
        session,
        operator,
        "dealership.suspend",
        now,
        account_id=account_id,
        outcome="ok" if changed else "unchanged",
        details={"reason": reason} if reason else None,
    )
    return await _found(session, account_id)


async def resume_dealership(
    session: AsyncSession, account_id: UUID, operator: Operator, now: datetime
) -> Dealership:
    changed = await _set_status(session, account_id, "active", now)
    if changed:
        event = DealershipResumed(account_id=account_id, resumed_by=operator.name, occurred_at=now)
        await add_event(session, DEALERSHIP_RESUMED, event, event.partition_key)
    await audit.record(
        session,
        operator,
        "dealership.resume",
        now,
        account_id=account_id,
        outcome="ok" if changed else "unchanged",
    )
    return await _found(session, account_id)


async def _set_status(session: AsyncSession, account_id: UUID, status: str, now: datetime) -> bool:
    """True when the status changed. The row is locked, so two operators' calls are in order."""
    current = await session.scalar(
        select(accounts.c.status).where(accounts.c.id == account_id).with_for_update()
    )
    if current is None:
        raise DealershipNotFound("dealership not found")
    if current == status:
        return False
    await session.execute(
        update(accounts).where(accounts.c.id == account_id).values(status=status, status_changed_at=now)
    )
    return True


async def _found(session: AsyncSession, account_id: UUID) -> Dealership:
    dealership = await find_dealership(session, account_id)
    if dealership is None:
        raise DealershipNotFound("dealership not found")
    return dealership
