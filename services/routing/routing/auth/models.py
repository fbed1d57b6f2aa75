"""Logging in."""

from pydantic import BaseModel

from routing.requests import RequestModel


class LoginRequest(RequestModel):
    email: str
    password: str


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
