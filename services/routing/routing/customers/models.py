"""Customer profiles' request and response bodies."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from routing.domain.phones import PhoneKind
from routing.requests import RequestModel


def _blank_to_none(value: object) -> object:
    if isinstance(value, str) and not value.strip():
        return None
    return value


Name = Annotated[
    Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None,
    BeforeValidator(_blank_to_none),
    Field(description="Blank is stored as no value"),
]
Email = Annotated[
    Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    ]
    | None,
    BeforeValidator(_blank_to_none),
    Field(description="E-mail address; blank is stored as no value", examples=["jo@example.com"]),
]

# --- request models ---------------------------------------------------------------------------


class PhoneIn(RequestModel):
    model_config = ConfigDict(extra="forbid")

    number: str = Field(
        min_length=1,
        max_length=40,
        description="Any human format: `(514) 555-0100`, `514.555.0100`, `+33 6 12 34 56 78`. Numbers "
        "without a country code are read in the service's default region; stored as E.164",
        examples=["(514) 555-0100"],
    )
    kind: PhoneKind | None = Field(
        default=None,
        description="mobile, landline or unknown. Default: what the numbering plan says (North "
        "American numbers cannot be told apart, so they default to unknown)",
    )


class CustomerCreate(RequestModel):
    model_config = ConfigDict(extra="forbid")

    first_name: Name = None
    last_name: Name = None
    email: Email = None
    phones: list[PhoneIn] = Field(default_factory=list, max_length=20)


class CustomerPatch(RequestModel):
    """Only the fields sent change; `null` (or blank) clears one."""

    model_config = ConfigDict(extra="forbid")

    first_name: Name = None
    last_name: Name = None
    email: Email = None


class PhoneKindPatch(RequestModel):
    model_config = ConfigDict(extra="forbid")

    kind: PhoneKind = Field(description="mobile, landline or unknown (staff overrule the numbering plan)")


class NoteCreate(RequestModel):
    model_config = ConfigDict(extra="forbid")

    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)] = Field(
        description="Internal: seen by staff only, never sent to the customer"
    )


# --- response models --------------------------------------------------------------------------


class PhoneView(BaseModel):
    id: UUID
    e164: str = Field(examples=["+15145550100"])
    kind: PhoneKind = Field(description="mobile, landline or unknown; a landline is never texted")
    opted_out: bool = Field(description="The number opted out of texts on one of the account's numbers")
    national_format: str = Field(examples=["(514) 555-0100"])


class CustomerSummary(BaseModel):
    id: UUID
    first_name: str | None
    last_name: str | None
    email: str | None
    dms_customer_id: str | None = Field(description="The customer's id in the dealer-management system")
    phones: list[PhoneView] = Field(description="Oldest first")
    created_at: datetime
    updated_at: datetime


class CustomerPage(BaseModel):
    items: list[CustomerSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last")


class CustomerDetail(CustomerSummary):
    active_conversation_id: UUID | None = Field(
        description="The one open or closed conversation, if the customer has one"
    )
    archived_conversation_ids: list[UUID] = Field(
        description="Conversations archived by a profile merge: still readable, oldest first"
    )
    merged_into_customer_id: UUID | None = Field(
        None,
        description="Set when this profile was merged into another one (a DMS customer given its "
        "mobile number): its numbers and conversations are that customer's now",
    )


class NoteView(BaseModel):
    # Two schemas are named NoteView (conversations' and customers'): OpenAPI then names each after
    # its module, and the published names are those of the module it was first written in.
    __module__ = "routing.api.customers"

    id: UUID
    customer_id: UUID
    author_user_id: UUID | None
    author_name: str | None
    body: str
    created_at: datetime


class NotePage(BaseModel):
    items: list[NoteView]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last")
