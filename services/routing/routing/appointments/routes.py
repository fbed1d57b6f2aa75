"""Appointments from the DMS, day by day: staff start a conversation from one with
POST /api/v1/outreach (source kind `appointment`)."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from routing.appointments.models import (
    Appointment,
    AppointmentCustomer,
    AppointmentDay,
)
from routing.appointments.queries import appointments_of_day
from routing.staff_auth import role_guard
from shared.http.auth import Authenticated, Principal
from shared.http.errors import ERROR_RESPONSE_SCHEMA

AUTH_ERRORS: dict[int | str, dict] = {
    401: {**ERROR_RESPONSE_SCHEMA, "description": "No valid token, or its user was deactivated"},
    403: {**ERROR_RESPONSE_SCHEMA, "description": "Not a staff token (admin or agent)"},
    422: {**ERROR_RESPONSE_SCHEMA, "description": "`date` missing or not YYYY-MM-DD"},
}


def appointments_router(sessions: async_sessionmaker[AsyncSession], auth: Authenticated) -> APIRouter:
    router = APIRouter(prefix="/api/v1/appointments", tags=["appointments"], responses=AUTH_ERRORS)
    Staff = Annotated[Principal, Depends(role_guard(auth, "admin", "agent"))]

    @router.get(
        "",
        response_model=AppointmentDay,
        summary="Appointments of a day",
        description="Appointments starting on `date` in the dealership's time zone (account setting), "
        "in time order, cancelled ones included (see `status`), each with its customer and the "
        "customer's active conversation.",
    )
    async def list_appointments(
        caller: Staff,
        day: Annotated[date, Query(alias="date", description="YYYY-MM-DD, in the account's time zone")],
        limit: Annotated[int, Query(ge=1, le=1000, description="At most this many")] = 500,
    ) -> AppointmentDay:
        async with sessions() as session:
            rows = await appointments_of_day(session, caller.account_id, day, limit)
        items = []
        for row in rows:
            customer = None
            if row["customer_id"] is not None:
                customer = AppointmentCustomer(
                    id=row["customer_id"],
                    first_name=row["first_name"],
                    last_name=row["last_name"],
                    mobile_e164=row["mobile_e164"],
                )
            items.append(
                Appointment(
                    **{key: row[key] for key in Appointment.model_fields if key in row and key != "customer"},
                    customer=customer,
                )
            )
        return AppointmentDay(date=day, items=items)

    return router
