"""Events a dealership's DMS (CDK, Reynolds, Dealertrack...) publishes into Switchboard.

Integrators either produce this JSON straight onto `dms.events.v1` (key: the DMS customer id) or
POST it to `ingest`'s `/api/v1/dms/events`. Every event is one envelope (who, when, which record,
which version of it) with a `type` that decides the shape of its `payload`. The JSON Schema in
docs/dms-events.schema.json is generated from these models (devtools/dms_schema.py).

Ordering rule: `record_version` is the DMS's own version of the record (a counter, or the time
it was last modified). For one record an event with a lower version than one already applied
changes nothing, so replays and late deliveries are harmless.
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID

from pydantic import AfterValidator, Field, RootModel, field_validator, model_validator

from shared.contracts.base import Contract, Event

SCHEMA_VERSION = 1

PhoneType = Literal["mobile", "landline", "unknown"]
Money = Annotated[
    Decimal,
    Field(
        max_digits=14,
        decimal_places=2,
        description='An exact amount as a decimal string, e.g. "412.50" (JSON numbers are accepted).',
    ),
    # Stored and sent on with exactly two places ("412.5" becomes "412.50"), as people type it.
    AfterValidator(lambda amount: amount.quantize(Decimal("0.01"))),
]
CurrencyCode = Annotated[
    str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 currency code, e.g. USD or CAD")
]
DmsId = Annotated[str, Field(min_length=1, max_length=200)]
ShortText = Annotated[str, Field(max_length=500)]


class DmsPhone(Contract):
    number: Annotated[str, Field(min_length=3, max_length=40)] = Field(
        description="As the DMS holds it; any common format (routing normalises it to E.164)."
    )
    type: PhoneType = Field("unknown", description="Only `mobile` numbers can be texted.")


class Vehicle(Contract):
    year: Annotated[int, Field(ge=1900, le=2100)] | None = None
    make: ShortText | None = None
    model: ShortText | None = None
    vin: Annotated[str, Field(min_length=11, max_length=17)] | None = Field(
        None, description="Vehicle identification number (17 characters; older vehicles fewer)."
    )


class CustomerPayload(Contract):
    dms_customer_id: DmsId
    first_name: ShortText | None = None
    last_name: ShortText | None = None
    email: ShortText | None = None
    phones: list[DmsPhone] = Field(
        default_factory=list,
        max_length=20,
        description="Every number the DMS holds now; numbers left out are no longer the customer's.",
    )


class AppointmentPayload(Contract):
    appointment_id: DmsId
    dms_customer_id: DmsId
    starts_at: datetime = Field(description="RFC 3339 with an offset, e.g. 2026-11-26T09:30:00-05:00")
    ends_at: datetime | None = None
    appointment_type: ShortText | None = Field(None, description='What it is for, e.g. "oil change".')
    advisor: ShortText | None = Field(None, description="Service advisor's name.")
    vehicle: Vehicle | None = None
    notes: Annotated[str, Field(max_length=4000)] | None = None

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("needs a UTC offset (e.g. 2026-11-26T09:30:00-05:00)")
        return value


class RepairOrderTotals(Contract):
    labor: Money | None = None
    parts: Money | None = None
    tax: Money | None = None
    total: Money | None = None
    currency: CurrencyCode = "USD"


class RepairOrderPayload(Contract):
    ro_number: DmsId = Field(description="Repair order number as printed for the customer.")
    dms_customer_id: DmsId
    vehicle: Vehicle | None = None
    vin: Annotated[str, Field(min_length=11, max_length=17)] | None = None
    opened_on: date | None = None
    closed_on: date | None = None
    advisor: ShortText | None = None
    totals: RepairOrderTotals | None = None


class PaymentPayload(Contract):
    payment_id: DmsId
    dms_customer_id: DmsId
    ro_number: DmsId | None = Field(None, description="The repair order it pays, when there is one.")
    amount: Money
    currency: CurrencyCode
    method: ShortText | None = Field(None, description='e.g. "card", "cash".')
    paid_at: datetime | None = None


def _version(value: Any) -> Any:
    """A timestamp version becomes microseconds since the epoch, so versions compare as numbers."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and not value.strip().lstrip("-").isdigit():
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value  # left to the int validation, which explains what is expected
    else:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1_000_000)


class DmsEnvelope(Event):
    """What every DMS event carries, whatever its type."""

    event_id: UUID = Field(
        description="Unique per event and the same on every retry: an id seen before is ignored."
    )
    schema_version: Literal[1] = Field(1, description="Major version of this contract.")
    integration_id: Annotated[str, Field(max_length=200)] | None = Field(
        None, description="The integration that sent it (set by ingest for HTTP events)."
    )
    dms_record_id: DmsId = Field(
        description="Id of the record the event is about: the customer id, appointment id, RO "
        "number or payment id (must equal the one in the payload)."
    )
    record_version: Annotated[int, Field(ge=0)] = Field(
        description="The DMS's version of this record: a counter that only grows, or the record's "
        "last-modified time (RFC 3339, stored as microseconds since 1970). An event older than "
        "the one already applied for the same record changes nothing."
    )

    # Which payload field holds the record id (set by each event type).
    record_field: ClassVar[str] = ""

    @field_validator("record_version", mode="before")
    @classmethod
    def _parse_version(cls, value: Any) -> Any:
        return _version(value)

    @model_validator(mode="after")
    def _record_id_matches(self) -> "DmsEnvelope":
        expected = getattr(self.payload, self.record_field)  # type: ignore[attr-defined]
        if self.dms_record_id != expected:
            raise ValueError(f"dms_record_id must equal payload.{self.record_field} ({expected!r})")
        return self

    @property
    def dms_customer_id(self) -> str:
        return self.payload.dms_customer_id  # type: ignore[attr-defined]

    @property
    def partition_key(self) -> str:
        return self.dms_customer_id


class CustomerUpserted(DmsEnvelope):
    """A customer was created or changed in the DMS (the full current record)."""

    type: Literal["customer.upserted"]
    payload: CustomerPayload
    record_field: ClassVar[str] = "dms_customer_id"


class AppointmentEvent(DmsEnvelope):
    """An appointment was booked, changed or cancelled (the full current record)."""

    type: Literal["appointment.booked", "appointment.changed", "appointment.cancelled"]
    payload: AppointmentPayload
    record_field: ClassVar[str] = "appointment_id"


class RepairOrderEvent(DmsEnvelope):
    """A repair order was opened, updated or closed (the full current record)."""

    type: Literal["repair_order.opened", "repair_order.updated", "repair_order.closed"]
    payload: RepairOrderPayload
    record_field: ClassVar[str] = "ro_number"


class PaymentRecorded(DmsEnvelope):
    """A payment was recorded."""

    type: Literal["payment.recorded"]
    payload: PaymentPayload
    record_field: ClassVar[str] = "payment_id"


AnyDmsEvent = Annotated[
    CustomerUpserted | AppointmentEvent | RepairOrderEvent | PaymentRecorded,
    Field(discriminator="type"),
]


class DmsEvent(RootModel[AnyDmsEvent]):
    """One DMS event, whichever its type: the contract of `dms.events.v1`. Consumers read
    `.root`, which is a CustomerUpserted, AppointmentEvent, RepairOrderEvent or PaymentRecorded."""

    @property
    def partition_key(self) -> str:
        return self.root.partition_key

    def to_bytes(self) -> bytes:
        return self.root.to_bytes()


class DmsEventRejected(Contract):
    """A DMS event that could not be used, with why: the contract of `dms.events.rejected.v1`
    (kept for the integrator, who reads it back through ingest's rejections API)."""

    rejection_id: str
    account_id: str | None = None
    integration_id: str | None = None
    event_id: str | None = Field(None, description="The event's own id, when it had a readable one.")
    reason: str
    errors: list[dict[str, Any]] = Field(default_factory=list, description="Field by field, when known.")
    received_at: datetime
    payload: str = Field(description="The event exactly as received (JSON text).")

    @property
    def partition_key(self) -> str:
        return self.account_id or "unknown"


DMS_EVENT_TYPES: tuple[str, ...] = (
    "customer.upserted",
    "appointment.booked",
    "appointment.changed",
    "appointment.cancelled",
    "repair_order.opened",
    "repair_order.updated",
    "repair_order.closed",
    "payment.recorded",
)
