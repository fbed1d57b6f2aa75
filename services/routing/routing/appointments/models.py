"""A day of DMS appointments, as the appointments screen shows it."""

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field


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
