"""One DMS event, whichever its type, applied in the caller's transaction."""

from sqlalchemy.ext.asyncio import AsyncSession

from routing.dms.usecases.customers import upsert_dms_customer
from routing.dms.usecases.records import record_appointment, record_payment, record_repair_order
from shared.contracts.dms import (
    AppointmentEvent,
    CustomerUpserted,
    PaymentRecorded,
    RepairOrderEvent,
)


async def apply_dms_event(
    session: AsyncSession,
    event: CustomerUpserted | AppointmentEvent | RepairOrderEvent | PaymentRecorded,
    region: str,
) -> bool:
    """True when something changed (False for a duplicate or an older version)."""
    if isinstance(event, CustomerUpserted):
        return await upsert_dms_customer(session, event, region) is not None
    if isinstance(event, AppointmentEvent):
        return await record_appointment(session, event)
    if isinstance(event, RepairOrderEvent):
        return await record_repair_order(session, event)
    return await record_payment(session, event)
