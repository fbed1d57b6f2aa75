"""Who may call the notifier's staff API: a staff member's token (admin or agent). Service
tokens have no feed of their own."""

from typing import Annotated
from uuid import UUID

from fastapi import Depends

from shared.http.auth import Authenticated, Principal
from shared.http.errors import ApiError


def staff_dependency(auth: Authenticated):
    async def staff(principal: Annotated[Principal, Depends(auth)]) -> Principal:
        if principal.role not in ("admin", "agent"):
            raise ApiError(403, "forbidden", "staff only")
        try:
            UUID(principal.subject)
        except ValueError as exc:
            raise ApiError(401, "unauthorized", "the token does not name a staff member") from exc
        return principal

    return staff
