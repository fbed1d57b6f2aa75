"""`customer.changed.v1`: the whole current profile, emitted through the outbox in the same
transaction as every change to it, so search and others can keep the latest one."""

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from routing.outbox import add_event
from routing.tables import customer_phones, customers
from shared.contracts.customer import CustomerChanged, CustomerPhone
from shared.contracts.topics import CUSTOMER_CHANGED


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
