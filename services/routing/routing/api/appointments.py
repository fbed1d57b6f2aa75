"""Appointments from the DMS, day by day: staff start a conversation from one with
POST /api/v1/outreach (source kind `appointment`)."""

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from routing.api.staff_auth import role_guard
from routing.appointment_queries import appointments_of_day
from shared.http.auth import Authenticated, Principal
from shared.http.errors import ERROR_RESPONSE_SCHEMA


class AppointmentCustomer(BaseModel):
    id: UUID
    first_name: str | None = None
    last_name: str | None = None
    mobile_e164: str | None = Field(None, description="The first mobile number, the one to text")


class Appointment(BaseModel):
    id: UUID
    dms_appointment_id: str
    status: str = Field(description="booked or cancelled")
    starts_at: datetime
    ends_at: datetime | None = None
    appointment_type: str | None = Field(None, description='e.g. "oil change"')
    advisor: str | None = None
    vehicle: dict[str, Any] | None = Field(None, description="year, make, model, vin")
    dms_customer_id: str
    customer: AppointmentCustomer | None = Field(
        None, description="The customer's profile; none until the DMS has sent the customer record"
    )
    active_conversation_id: UUID | None = Field(
        None, description="The customer's active conversation, if any (else outreach starts one)"
    )


class AppointmentDay(BaseModel):
    date: date
    items: list[Appointment]


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
