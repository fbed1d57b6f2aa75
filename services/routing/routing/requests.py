"""The base of every request body of routing's API. PostgreSQL cannot store the NUL character
(U+0000) in text, so a body carrying one in any text (a team name, a saved reply, a note, a
message...) is refused with 422 here instead of failing with 500 at the database."""

from typing import Any

from pydantic import BaseModel, field_validator

NUL = "\x00"


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return any(_has_nul(item) for item in value)
    return False  # nested request models check their own fields


class RequestModel(BaseModel):
    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_character(cls, value: Any) -> Any:
        if _has_nul(value):
            raise ValueError("text cannot contain the NUL character (\\u0000)")
        return value
