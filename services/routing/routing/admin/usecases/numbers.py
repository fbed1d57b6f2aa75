"""The dealership's sending numbers. Customers text these; `routing` finds the account by the
number a text was sent to, so a number belongs to one account in the whole system. routing holds
them; every add and remove is announced (`phone_number.changed.v1`, through the outbox in the same
transaction) so ingest can tell whose a Telnyx webhook is."""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID, uuid4

from sqlalchemy import Select, delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from routing.admin.usecases.errors import NotInAccount, NumberTaken
from routing.domain.phones import to_e164
from routing.outbox import add_event
from routing.tables import account_phone_numbers
from shared.contracts.phone_numbers import PhoneNumberChanged
from shared.contracts.topics import PHONE_NUMBER_CHANGED

Carrier = Literal["twilio", "telnyx"]
NumberKind = Literal["long_code", "toll_free"]


@dataclass(frozen=True)
class DealershipNumber:
    id: UUID
    e164: str
    carrier: Carrier
    kind: NumberKind
    created_at: datetime


def numbers_of(account_id: UUID) -> Select:
    return select(account_phone_numbers).where(account_phone_numbers.c.account_id == account_id)


async def list_numbers(session: AsyncSession, account_id: UUID) -> list[DealershipNumber]:
    rows = await session.execute(numbers_of(account_id).order_by(account_phone_numbers.c.e164))
    return [_number(row) for row in rows]


async def add_number(
    session: AsyncSession,
    account_id: UUID,
    number: str,
    carrier: Carrier,
    kind: NumberKind,
    default_region: str,
    now: datetime,
) -> DealershipNumber:
    """Raises `routing.domain.phones.InvalidPhoneNumber` for text that is not a phone number."""
    e164 = to_e164(number, default_region)
    row = (
        await session.execute(
            insert(account_phone_numbers)
            .values(id=uuid4(), account_id=account_id, e164=e164, carrier=carrier, kind=kind, created_at=now)
            # e164 is unique system-wide; whose number it is stays unsaid.
            .on_conflict_do_nothing()
            .returning(*account_phone_numbers.c)
        )
    ).first()
    if row is None:
        raise NumberTaken(f"{e164} is already registered")
    await _announce(session, account_id, row, "added")
    return _number(row)


async def remove_number(session: AsyncSession, account_id: UUID, number_id: UUID) -> None:
    removed = (
        await session.execute(
            delete(account_phone_numbers)
            .where(account_phone_numbers.c.id == number_id, account_phone_numbers.c.account_id == account_id)
            .returning(*account_phone_numbers.c)
        )
    ).first()
    if removed is None:
        raise NotInAccount("phone number")
    await _announce(session, account_id, removed, "removed")


async def _announce(
    session: AsyncSession, account_id: UUID, row, change: Literal["added", "removed"]
) -> None:
    event = PhoneNumberChanged(
        account_id=account_id, e164=row.e164, carrier=row.carrier, kind=row.kind, change=change
    )
    await add_event(session, PHONE_NUMBER_CHANGED, event, key=event.partition_key)


def _number(row) -> DealershipNumber:
    return DealershipNumber(row.id, row.e164, row.carrier, row.kind, row.created_at)
