"""Request and response bodies of the operator API."""

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from routing.admin.usecases.settings import is_time_zone
from routing.invitations.models import Email, Name
from routing.requests import RequestModel

Language = Literal["en", "fr_CA"]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class FirstAdmin(RequestModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    email: Email


class CreateDealershipRequest(RequestModel):
    model_config = ConfigDict(extra="forbid")

    name: Name = Field(examples=["Laurier Toyota"])
    time_zone: str = Field(description="IANA time zone", examples=["America/Toronto"])
    language: Language = Field("en", description="The dealership's default language (staff e-mails)")
    admin: FirstAdmin = Field(description="The first admin: invited by e-mail to set their password")

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if not is_time_zone(value):
            raise ValueError("not an IANA time zone, e.g. America/Toronto")
        return value


class SuspendRequest(RequestModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason | None = Field(None, description="Why, in a few words (kept in the audit line)")


class InvitationLink(BaseModel):
    id: UUID
    email: str
    name: str
    link: str = Field(description="The first admin's link to set their password (also e-mailed)")
    expires_at: datetime


class CreatedDealership(BaseModel):
    id: UUID
    name: str
    time_zone: str
    language: Language
    status: Literal["active", "suspended"]
    created_at: datetime
    admin_invitation: InvitationLink


class DealershipView(BaseModel):
    id: UUID
    name: str
    time_zone: str
    language: Language
    status: Literal["active", "suspended"]
    status_changed_at: datetime | None
    created_at: datetime
    staff_count: int = Field(description="Active staff")
    usage: dict[str, Any] | None = Field(
        None, description="Usage per month (texts, exports); null when unknown"
    )


class DealershipPage(BaseModel):
    items: list[DealershipView]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page; null at the end")


class AuditLineView(BaseModel):
    id: int
    at: datetime
    operator: str = Field(description="The operator token's name (or its fingerprint)")
    operator_fingerprint: str = Field(description="`sha256:` and the start of the token's digest")
    action: str
    account_id: UUID | None
    outcome: str
    details: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditLineView]
    next_cursor: str | None = Field(None, description="Pass as `before` for older lines; null at the end")
