"""Signing in, and switching between the dealerships a person works at."""

from uuid import UUID

from pydantic import BaseModel, Field

from routing.requests import RequestModel


class LoginRequest(RequestModel):
    email: str
    password: str


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"


class DealershipView(BaseModel):
    account_id: UUID
    name: str
    role: str = Field(description="The person's role there: `admin` or `agent`")
    current: bool = Field(description="The dealership of the token this answer is for")
    suspended: bool = Field(False, description="Suspended by the operator: no one can sign in to it")


class SignedInResponse(TokenResponse):
    """A token for one dealership, and every dealership the person works at (one for most)."""

    account_id: UUID = Field(description="The dealership the token is for")
    dealerships: list[DealershipView]


class SwitchRequest(RequestModel):
    account_id: UUID
