"""Request and response bodies of the admin API (staff, teams, numbers, settings)."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from routing.admin.usecases.settings import AUTO_CLOSE_AFTER_DAYS, UNANSWERED_AFTER_HOURS, is_time_zone
from routing.admin.usecases.users import LANGUAGES
from routing.auth.models import DealershipView
from routing.requests import RequestModel

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s.]+$"),
]
StaffRole = Literal["admin", "agent"]


# --- staff ------------------------------------------------------------------------------------


class StaffUser(BaseModel):
    """A member of the dealership's staff, as shown in the assign menu and the admin screens."""

    id: UUID
    name: str
    email: str
    role: StaffRole
    active: bool = Field(description="False once deactivated: cannot log in, history kept")
    deactivated_at: datetime | None
    created_at: datetime
    team_ids: list[UUID] = Field(description="Teams this user is a member of")
    sessions_valid_after: datetime | None = Field(
        None,
        description="Tokens issued before this moment are refused (the password was set or reset since)",
    )
    account_suspended: bool = Field(
        False, description="The dealership is suspended: the user's tokens are refused everywhere"
    )


class TeamRef(BaseModel):
    id: UUID
    name: str


class Me(StaffUser):
    """The caller, with the names of their teams."""

    account_id: UUID
    teams: list[TeamRef]
    language: str | None = Field(
        description="The language chosen in the caller's profile (`en`, `fr_CA`); null: the browser's"
    )
    time_zone: str | None = Field(
        description="The IANA time zone chosen in the caller's profile; null: the dealership's"
    )
    dealerships: list[DealershipView] = Field(
        default_factory=list,
        description="Every dealership the caller works at (dealer groups; one for most people), "
        "as `GET /api/v1/me/dealerships` lists them",
    )


class UpdateMeRequest(RequestModel):
    """The caller's own preferences. Only the fields given change; null goes back to the default
    (the browser's language, the dealership's time zone)."""

    model_config = ConfigDict(extra="forbid")

    language: str | None = Field(default=None, description=f"One of {', '.join(LANGUAGES)}, or null")
    time_zone: str | None = Field(
        default=None, description="IANA time zone, e.g. America/Toronto, or null", max_length=64
    )

    @field_validator("language")
    @classmethod
    def _supported_language(cls, value: str | None) -> str | None:
        if value is not None and value not in LANGUAGES:
            raise ValueError(f"not a supported language ({', '.join(LANGUAGES)})")
        return value

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None and not is_time_zone(value):
            raise ValueError("not a known IANA time zone (e.g. America/Toronto)")
        return value

    def changes(self) -> dict:
        return self.model_dump(include=self.model_fields_set)


class UpdateUserRequest(RequestModel):
    """Only the fields given change. `active: false` deactivates (the user can no longer log in,
    their tokens stop working, they leave their teams; nothing they did is deleted);
    `active: true` reactivates. You cannot deactivate or demote yourself, and the account keeps
    at least one active admin. Nobody sets a colleague's password: people set their own through
    an invitation or a password reset."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    email: Email | None = None
    role: StaffRole | None = None
    active: bool | None = None


# --- teams ------------------------------------------------------------------------------------


class TeamView(BaseModel):
    id: UUID
    name: str
    member_ids: list[UUID] = Field(description="Users in the team")
    created_at: datetime


class CreateTeamRequest(RequestModel):
    model_config = ConfigDict(extra="forbid")

    name: Name = Field(description="Unique in the dealership, case-insensitively")
    member_ids: list[UUID] = Field(
        default_factory=list, max_length=1000, description="Active users of your account"
    )


class RenameTeamRequest(RequestModel):
    model_config = ConfigDict(extra="forbid")

    name: Name = Field(description="Unique in the dealership, case-insensitively")


class TeamMembersRequest(RequestModel):
    model_config = ConfigDict(extra="forbid")

    user_ids: list[UUID] = Field(
        max_length=1000, description="The whole new member list: active users of your account"
    )


# --- phone numbers ----------------------------------------------------------------------------


class PhoneNumberView(BaseModel):
    id: UUID
    e164: str = Field(description="The number in E.164, e.g. +15145550100")
    carrier: Literal["twilio", "telnyx"]
    kind: Literal["long_code", "toll_free"]
    created_at: datetime


class AddPhoneNumberRequest(RequestModel):
    model_config = ConfigDict(extra="forbid")

    number: str = Field(
        min_length=1,
        max_length=40,
        description="Any usual way of writing it: (514) 555-0100, 514.555.0100, +1 514 555 0100; "
        "without a country code, the service's default region is assumed",
        examples=["(514) 555-0100"],
    )
    carrier: Literal["twilio", "telnyx"] = Field(description="Which carrier sends and receives on it")
    kind: Literal["long_code", "toll_free"] = "long_code"


# --- settings ---------------------------------------------------------------------------------

UnansweredHours = Annotated[
    int,
    Field(
        ge=UNANSWERED_AFTER_HOURS[0],
        le=UNANSWERED_AFTER_HOURS[1],
        description="Hours after which an unanswered inbound message flags the conversation overdue",
    ),
]
AutoCloseDays = Annotated[
    int | None,
    Field(
        ge=AUTO_CLOSE_AFTER_DAYS[0],
        le=AUTO_CLOSE_AFTER_DAYS[1],
        description="Close conversations after this many days without activity; null = never",
    ),
]
HelpText = Annotated[
    str | None, Field(max_length=5000, description="Shown to staff in the inbox; null for none")
]


class AccountSettingsView(BaseModel):
    name: str = Field(description="The dealership's name")
    time_zone: str = Field(description="IANA time zone, e.g. America/Toronto")
    unanswered_after_hours: UnansweredHours
    auto_close_after_days: AutoCloseDays
    help_text: HelpText


class UpdateSettingsRequest(RequestModel):
    """Only the fields given change; an explicit null turns auto-close off or clears the help
    text."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    time_zone: str | None = Field(default=None, description="IANA time zone, e.g. America/Toronto")
    unanswered_after_hours: UnansweredHours | None = None
    auto_close_after_days: AutoCloseDays = None
    help_text: HelpText = None

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None and not is_time_zone(value):
            raise ValueError("not a known IANA time zone (e.g. America/Toronto)")
        return value

    @field_validator("name", "time_zone", "unanswered_after_hours")
    @classmethod
    def _not_null(cls, value):
        # These always have a value: null is not "unchanged", it is a mistake.
        if value is None:
            raise ValueError("may not be null")
        return value

    def changes(self) -> dict:
        return self.model_dump(include=self.model_fields_set)
