"""Request and response bodies of invitations and password resets."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from routing.domain.passwords import MAX_LENGTH, MIN_LENGTH
from routing.requests import RequestModel

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s.]+$"),
]
Token = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# Length and commonness are checked by the use case (domain/passwords.py), with their own codes.
NewPassword = Annotated[
    str,
    Field(
        max_length=MAX_LENGTH,
        description=f"At least {MIN_LENGTH} characters, and not one of the most common passwords",
    ),
]


class CreateInvitationRequest(RequestModel):
    """An admin never gives a password: the invitee sets their own."""

    model_config = ConfigDict(extra="forbid")

    email: Email
    name: Name
    role: Literal["admin", "agent"]
    team_ids: list[UUID] = Field(default_factory=list, description="Teams they join when they accept")
    language: Literal["en", "fr_CA"] | None = Field(
        default=None, description="The e-mail's language (and theirs once they accept); default English"
    )


class InvitationView(BaseModel):
    """A pending invitation. Its link is only ever in the invitee's e-mail."""

    id: UUID
    email: str
    name: str
    role: Literal["admin", "agent"]
    team_ids: list[UUID]
    created_at: datetime
    expires_at: datetime


class AcceptRequest(RequestModel):
    token: Token = Field(description="The `token` of the e-mailed link")
    password: NewPassword


class PasswordResetRequest(RequestModel):
    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254)]
