"""Staff keep customer profiles: names, e-mail, typed phone numbers, internal notes. A phone
number belongs to at most one customer of an account (the database's unique (account_id, e164)
decides, so two staff adding the same number at once cannot both win). Removing a number keeps
every conversation and message: they hang on the customer, not on the number.

Every change emits `customer.changed.v1`: the whole current profile, through the outbox in the
same transaction, so search and others can keep the latest one."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from routing.domain.phones import PhoneKind
from routing.outbox import add_event
from routing.tables import customer_notes, customer_phones, customers
from shared.contracts.customer import CustomerChanged, CustomerPhone
from shared.contracts.topics import CUSTOMER_CHANGED


class CustomerNotFound(LookupError):
    """Not a customer of the caller's account (or no customer at all: the caller cannot tell)."""


class PhoneNotFound(LookupError):
    """Not a number of that customer."""


class PhoneTaken(ValueError):
    """The number already belongs to a customer of the account (possibly this very one)."""

    def __init__(self, e164: str, customer_id: UUID, index: int | None = None) -> None:
        super().__init__(f"{e164} already belongs to customer {customer_id}")
        self.e164 = e164
        self.customer_id = customer_id
        self.index = index


@dataclass(frozen=True)
class NewPhone:
    e164: str
    kind: PhoneKind


@dataclass(frozen=True)
class Profile:
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None


async def create_customer(
    session: AsyncSession, account_id: UUID, profile: Profile, phones: list[NewPhone], now: datetime
) -> UUID:
    """Raises PhoneTaken (nothing is stored: the caller's transaction rolls back)."""
    customer_id = uuid4()
    await session.execute(
        customers.insert().values(
            id=customer_id,
            account_id=account_id,
            first_name=profile.first_name,
            last_name=profile.last_name,
            email=profile.email,
            created_at=now,
            updated_at=now,
        )
    )
    for index, phone in enumerate(phones):
        # A microsecond apart, so the profile lists the numbers in the order staff gave them.
        at = now + timedelta(microseconds=index)
        await _claim_number(session, account_id, customer_id, phone, at, index)
    await emit_customer_changed(session, account_id, customer_id, "created")
    return customer_id


async def update_customer(
    session: AsyncSession, account_id: UUID, customer_id: UUID, changes: dict, now: datetime
) -> None:
    """`changes`: any of first_name, last_name, email (None clears it)."""
    allowed = {key: value for key, value in changes.items() if key in ("first_name", "last_name", "email")}
    updated = await session.scalar(
        update(customers)
        .where(customers.c.id == customer_id, customers.c.account_id == account_id)
        .values(**allowed, updated_at=now)
        .returning(customers.c.id)
    )
    if updated is None:
        raise CustomerNotFound(customer_id)
    await emit_customer_changed(session, account_id, customer_id, "updated")


async def add_phone(
    session: AsyncSession, account_id: UUID, customer_id: UUID, phone: NewPhone, now: datetime
) -> UUID:
    await _touch(session, account_id, customer_id, now)
    phone_id = await _claim_number(session, account_id, customer_id, phone, now)
    await emit_customer_changed(session, account_id, customer_id, "updated")
    return phone_id


async def change_phone_kind(
    session: AsyncSession,
    account_id: UUID,
    customer_id: UUID,
    phone_id: UUID,
    kind: PhoneKind,
    now: datetime,
) -> None:
    await _touch(session, account_id, customer_id, now)
    changed = await session.scalar(
        update(customer_phones)
        .where(*_phone_of(account_id, customer_id, phone_id))
        .values(kind=kind)
        .returning(customer_phones.c.id)
    )
    if changed is None:
        raise PhoneNotFound(phone_id)
    await emit_customer_changed(session, account_id, customer_id, "updated")


async def remove_phone(
    session: AsyncSession, account_id: UUID, customer_id: UUID, phone_id: UUID, now: datetime
) -> None:
    await _touch(session, account_id, customer_id, now)
    removed = await session.scalar(
        delete(customer_phones)
        .where(*_phone_of(account_id, customer_id, phone_id))
        .returning(customer_phones.c.id)
    )
    if removed is None:
        raise PhoneNotFound(phone_id)
    await emit_customer_changed(session, account_id, customer_id, "updated")


async def add_note(
    session: AsyncSession,
    account_id: UUID,
    customer_id: UUID,
    author_user_id: UUID,
    body: str,
    now: datetime,
) -> UUID:
    """An internal note on the profile: staff only, never sent to the customer."""
    exists = await session.scalar(
        select(customers.c.id).where(customers.c.id == customer_id, customers.c.account_id == account_id)
    )
    if exists is None:
        raise CustomerNotFound(customer_id)
    note_id = uuid4()
    await session.execute(
        customer_notes.insert().values(
            id=note_id,
            account_id=account_id,
            customer_id=customer_id,
            author_user_id=author_user_id,
            body=body,
            created_at=now,
        )
    )
    return note_id


# --- helpers ----------------------------------------------------------------------------------


def _phone_of(account_id: UUID, customer_id: UUID, phone_id: UUID) -> tuple:
    return (
        customer_phones.c.id == phone_id,
        customer_phones.c.customer_id == customer_id,
        customer_phones.c.account_id == account_id,
    )


async def _touch(session: AsyncSession, account_id: UUID, customer_id: UUID, now: datetime) -> None:
    """Marks the profile changed, locking it so phone changes of one customer run one at a time."""
    found = await session.scalar(
        update(customers)
        .where(customers.c.id == customer_id, customers.c.account_id == account_id)
        .values(updated_at=now)
        .returning(customers.c.id)
    )
    if found is None:
        raise CustomerNotFound(customer_id)


async def _claim_number(
    session: AsyncSession,
    account_id: UUID,
    customer_id: UUID,
    phone: NewPhone,
    now: datetime,
    index: int | None = None,
) -> UUID:
    # ON CONFLICT waits for a concurrent insert of the same number and then sees its outcome,
    # so a number is never handed to two customers and the loser learns who holds it.
    phone_id = await session.scalar(
        insert(customer_phones)
        .values(
            id=uuid4(),
            account_id=account_id,
            customer_id=customer_id,
            e164=phone.e164,
            kind=phone.kind,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["account_id", "e164"])
        .returning(customer_phones.c.id)
    )
    if phone_id is not None:
        return phone_id
    holder = await session.scalar(
        select(customer_phones.c.customer_id).where(
            customer_phones.c.account_id == account_id, customer_phones.c.e164 == phone.e164
        )
    )
    raise PhoneTaken(phone.e164, holder, index)


# --- customer.changed.v1 ----------------------------------------------------------------------


async def emit_customer_changed(
    session: AsyncSession, account_id: UUID, customer_id: UUID, reason: str
) -> None:
    row = (
        await session.execute(
            select(customers).where(customers.c.id == customer_id, customers.c.account_id == account_id)
        )
    ).first()
    if row is None:
        return
    phones = await session.execute(
        select(customer_phones.c.e164, customer_phones.c.kind)
        .where(customer_phones.c.customer_id == customer_id, customer_phones.c.account_id == account_id)
        .order_by(customer_phones.c.created_at, customer_phones.c.id)
    )
    event = CustomerChanged(
        account_id=account_id,
        customer_id=customer_id,
        dms_customer_id=row.dms_customer_id,
        first_name=row.first_name,
        last_name=row.last_name,
        email=row.email,
        phones=[CustomerPhone(e164=phone.e164, kind=phone.kind) for phone in phones],
        merged_into_customer_id=row.merged_into_customer_id,
        reason=reason,
    )
    await add_event(session, CUSTOMER_CHANGED, event, key=event.partition_key)
