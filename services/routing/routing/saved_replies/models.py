"""Saved replies' request and response bodies."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from routing.domain import templates
from routing.requests import RequestModel

NAME_MAX_LENGTH = 100
VARIABLE_MAX_LENGTH = 500

_BODY_DESCRIPTION = (
    "The text, with placeholders such as `{{ customer.first_name }}`, optionally through a filter: "
    "`{{ customer.first_name | default('there') }}`, `{{ dealership.name | upper }}`. "
    f"Placeholders: {', '.join(templates.PLACEHOLDERS)}. Filters: {', '.join(templates.SAFE_FILTERS)}. "
    "Nothing else (tags, calls, other attributes) is accepted."
)


class SavedReplyView(BaseModel):
    id: UUID
    name: str
    body: str
    placeholders: list[str] = Field(description="The placeholders the body uses, in order of first use")
    created_by_user_id: UUID | None = Field(description="Who created it (null once that user is gone)")
    created_at: datetime
    updated_at: datetime


class SavedReplyCreate(RequestModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=NAME_MAX_LENGTH, description="Unique in the account")
    body: str = Field(min_length=1, max_length=templates.MAX_BODY_LENGTH, description=_BODY_DESCRIPTION)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("the name cannot be blank")
        return value


class SavedReplyUpdate(RequestModel):
    """Only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=NAME_MAX_LENGTH)
    body: str | None = Field(
        default=None, min_length=1, max_length=templates.MAX_BODY_LENGTH, description=_BODY_DESCRIPTION
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None:
            value = value.strip()
            if not value:
                raise ValueError("the name cannot be blank")
        return value


class PreviewRequest(RequestModel):
    """For whom to render: a conversation (its customer and dealership number) or a customer."""

    model_config = ConfigDict(extra="forbid")

    conversation_id: UUID | None = None
    customer_id: UUID | None = None
    variables: dict[str, Annotated[str, Field(max_length=VARIABLE_MAX_LENGTH)]] = Field(
        default_factory=dict,
        description="Values for placeholders the database does not know, e.g. "
        '`{"appointment.date": "May 3"}`; a value given here wins over the stored one',
        examples=[{"appointment.date": "May 3", "appointment.time": "9:30 AM"}],
    )

    @model_validator(mode="after")
    def _one_target(self) -> "PreviewRequest":
        if (self.conversation_id is None) == (self.customer_id is None):
            raise ValueError("give exactly one of conversation_id and customer_id")
        unknown = sorted(set(self.variables) - set(templates.PLACEHOLDERS))
        if unknown:
            raise ValueError(f"unknown variables: {', '.join(unknown)}")
        return self


class DraftPreviewRequest(RequestModel):
    """A body not saved yet (typed in the saved-reply form), for a customer or for nobody."""

    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=templates.MAX_BODY_LENGTH, description=_BODY_DESCRIPTION)
    customer_id: UUID | None = Field(
        default=None, description="Fill the customer's placeholders with this customer's values"
    )
    variables: dict[str, Annotated[str, Field(max_length=VARIABLE_MAX_LENGTH)]] = Field(
        default_factory=dict, description="Values for placeholders the database does not know"
    )

    @model_validator(mode="after")
    def _known_variables(self) -> "DraftPreviewRequest":
        unknown = sorted(set(self.variables) - set(templates.PLACEHOLDERS))
        if unknown:
            raise ValueError(f"unknown variables: {', '.join(unknown)}")
        return self


class DraftPreviewView(BaseModel):
    text: str = Field(
        description="The text as it would be sent; a placeholder without value shows as `[name]`"
    )
    placeholders: list[str] = Field(description="The placeholders the body uses, in order of first use")
    missing: list[str] = Field(
        description="Placeholders used without `default` that have no value here (filled when sent "
        "to a customer)"
    )


class PreviewView(BaseModel):
    text: str = Field(description="The text exactly as it would be sent")


class TemplateCatalog(BaseModel):
    placeholders: list[str] = Field(description="Every placeholder a body may use")
    filters: list[str] = Field(description="Every filter a placeholder may go through")
    max_body_length: int
