"""Appointments of one day (in the dealership's time zone) with their customer and the
customer's active conversation: what staff start a conversation from."""

from datetime import date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from routing.tables import accounts, appointments, conversations, customer_phones, customers


def day_bounds(day: date, time_zone: str | None) -> tuple[datetime, datetime]:
    """Local midnight to the next local midnight (23 or 25 hours on daylight-saving days)."""
    try:
        zone = ZoneInfo(time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


async def appointments_of_day(session: AsyncSession, account_id: UUID, day: date, limit: int) -> list[dict]:
    time_zone = await session.scalar(select(accounts.c.time_zone).where(accounts.c.id == account_id))
    start, end = day_bounds(day, time_zone)
    a = appointments.c
    dms_profile = customers.alias("dms_profile")
    # The profile the DMS customer id names, or the one it was merged into.
    customer_id = func.coalesce(dms_profile.c.merged_into_customer_id, dms_profile.c.id)
    active_conversation = (
        select(conversations.c.id)
        .where(conversations.c.customer_id == customer_id, conversations.c.status != "archived")
        .limit(1)
        .scalar_subquery()
    )
    mobile = (
        select(customer_phones.c.e164)
        .where(customer_phones.c.customer_id == customer_id, customer_phones.c.kind == "mobile")
        .order_by(customer_phones.c.created_at, customer_phones.c.id)
        .limit(1)
        .scalar_subquery()
    )
    query = (
        select(
            a.id,
            a.dms_appointment_id,
            a.status,
            a.starts_at,
            a.ends_at,
            a.appointment_type,
            a.advisor,
            a.vehicle,
            a.dms_customer_id,
            customer_id.label("customer_id"),
            customers.c.first_name,
            customers.c.last_name,
            mobile.label("mobile_e164"),
            active_conversation.label("active_conversation_id"),
        )
        .outerjoin(
            dms_profile,
            and_(
                dms_profile.c.account_id == a.account_id,
                dms_profile.c.dms_customer_id == a.dms_customer_id,
            ),
        )
        .outerjoin(customers, customers.c.id == customer_id)
        .where(a.account_id == account_id, a.starts_at >= start, a.starts_at < end)
        .order_by(a.starts_at, a.id)
        .limit(limit)
    )
    return [dict(row._mapping) for row in await session.execute(query)]
