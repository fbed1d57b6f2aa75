"""Staff tokens stay good only while their user does: a token of a user who was deactivated,
or who is not (or no longer) in the token's account, is refused with 401 even before it expires;
so is one of a suspended dealership (401 `dealership_suspended`).
The lookup is cached for a few seconds per process so a busy inbox does not ask the database on
every request; deactivating someone through the admin API forgets the entry at once here, and
other replicas follow within `cache_seconds`."""

import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from routing.auth.usecases import current_staff_state
from shared.http.auth import Authenticated, Principal, Role, ended_sessions
from shared.http.errors import ApiError
from shared.http.staff import SUSPENDED, SUSPENDED_MESSAGE, CurrentRoleCache, refuse_suspended

__all__ = ["SUSPENDED_MESSAGE", "StaffAuthenticated", "role_guard"]
from shared.settings import ServiceSettings

# Only declared so the OpenAPI document shows the bearer scheme on every staff route; the parent
# class reads the header itself.
_BEARER = HTTPBearer(auto_error=False, description="A JWT from `POST /api/v1/auth/login`")


class StaffAuthenticated(Authenticated):
    """FastAPI dependency: the caller's principal. Staff principals carry the user's *current*
    role (a demoted admin is an agent within seconds, whatever the token says); service tokens
    (role `service`, subject = the calling service) pass through unchanged."""

    def __init__(
        self,
        settings: ServiceSettings,
        sessions: async_sessionmaker[AsyncSession],
        cache_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(settings)
        self._sessions = sessions
        self._cache = CurrentRoleCache(cache_seconds, clock)

    async def __call__(  # type: ignore[override]
        self,
        request: Request,
        _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)] = None,
    ) -> Principal:
        principal = await super().__call__(request)
        if principal.role == "service":
            return principal
        try:
            user_id = principal.user_id
        except ValueError as exc:
            raise ApiError(401, "unauthorized", "invalid or expired token") from exc
        found, role, valid_after = self._cache.get_state(principal.account_id, user_id)
        if not found:
            async with self._sessions() as session:
                role, valid_after = await current_staff_state(session, principal.account_id, user_id)
            if role != SUSPENDED:  # asked again each time, so a resume lets them in at once
                self._cache.put(principal.account_id, user_id, role, valid_after)
        if role == SUSPENDED:
            raise refuse_suspended()
        if role is None or ended_sessions(principal, valid_after):
            raise ApiError(401, "unauthorized", "invalid or expired token")
        return replace(principal, role=role)  # type: ignore[arg-type]

    def forget(self, account_id: UUID, user_id: UUID) -> None:
        """Call after changing a user's role or active flag, or ending their sessions, so this
        process sees it at once."""
        self._cache.forget(account_id, user_id)


def role_guard(auth: Authenticated, *roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets only the given roles through (403 `forbidden` for the others)."""

    async def guard(principal: Annotated[Principal, Depends(auth)]) -> Principal:
        if principal.role not in roles:
            raise ApiError(403, "forbidden", f"only {' or '.join(roles)} may do this")
        return principal

    return guard
