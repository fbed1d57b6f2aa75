"""Appointments, repair orders and payments from the DMS, kept as the DMS last described them:
one row per record, replaced only by a newer version of it (the version check is part of the
upsert, so two replicas applying events of one record at once still keep the newest)."""

from datetime import UTC, datetime
from uuid import uuid4

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from routing.tables import appointments, payments, repair_orders
from shared.contracts.dms import AppointmentEvent, PaymentRecorded, RepairOrderEvent
from shared.db.idempotency import claim_event

CONSUMER = "routing.dms_events"


async def record_appointment(session: AsyncSession, event: AppointmentEvent) -> bool:
    p = event.payload
    return await _upsert(
        session,
        event,
        appointments,
        "dms_appointment_id",
        p.appointment_id,
        status="cancelled" if event.type == "appointment.cancelled" else "booked",
        starts_at=p.starts_at,
        ends_at=p.ends_at,
        appointment_type=p.appointment_type,
        advisor=p.advisor,
        vehicle=p.vehicle.model_dump(mode="json") if p.vehicle else None,
    )


async def record_repair_order(session: AsyncSession, event: RepairOrderEvent) -> bool:
    p = event.payload
    closed = event.type == "repair_order.closed" or p.closed_on is not None
    vehicle = p.vehicle.model_dump(mode="json") if p.vehicle else None
    return await _upsert(
        session,
        event,
        repair_orders,
        "ro_number",
        p.ro_number,
        status="closed" if closed else "open",
        vin=p.vin or (p.vehicle.vin if p.vehicle else None),
        vehicle=vehicle,
        totals=p.totals.model_dump(mode="json") if p.totals else None,
    )


async def record_payment(session: AsyncSession, event: PaymentRecorded) -> bool:
    p = event.payload
    return await _upsert(
        session,
        event,
        payments,
        "dms_payment_id",
        p.payment_id,
        ro_number=p.ro_number,
        amount=p.amount,
        currency=p.currency,
        paid_at=p.paid_at,
    )


async def _upsert(
    session: AsyncSession, event, table: sa.Table, id_column: str, dms_id: str, **columns
) -> bool:
    """True when the event changed the stored record."""
    if not await claim_event(session, "routing", CONSUMER, event.event_id):
        return False
    now = datetime.now(UTC)
    values = {
        **columns,
        "dms_customer_id": event.payload.dms_customer_id,
        "record_version": event.record_version,
        "last_event_type": event.type,
        "data": event.payload.model_dump(mode="json"),
        "updated_at": now,
    }
    statement = insert(table).values(id=uuid4(), account_id=event.account_id, **{id_column: dms_id}, **values)
    changed = await session.scalar(
        statement.on_conflict_do_update(
            index_elements=["account_id", id_column],
            set_=values,
            where=table.c.record_version < statement.excluded.record_version,
        ).returning(table.c.id)
    )
    return changed is not None
