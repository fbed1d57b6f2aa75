"""Staff tokens checked against the user's *current* state, for the services that do not own users.

A JWT's signature and expiry only say that the user was staff when they logged in (up to 12 h
ago). `CurrentStaffAuthenticated` asks routing, which owns users, whether the user is still active
and what their role is now: `GET {routing}/api/v1/users/{id}` with a short-lived service token of
the token's account. Answers (the refusals included) are cached a few seconds per process, in a
bounded cache, so a busy client does not cost a routing call per request. When routing cannot be
asked, the request is refused with 503 `auth_unavailable`: letting a possibly deactivated user in
would be the silent failure this exists to prevent."""

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Annotated
from uuid import UUID

import httpx
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.http.auth import Authenticated, Principal, Role, ended_sessions, issue_token
from shared.http.errors import ApiError
from shared.http.suspension import SUSPENDED_MESSAGE, refuse_suspended
from shared.settings import ServiceSettings

__all__ = [
    "SUSPENDED",
    "SUSPENDED_MESSAGE",
    "CurrentStaffAuthenticated",
    "RoutingStaffDirectory",
    "refuse_suspended",
]

_SERVICE_TOKEN_TTL = timedelta(minutes=1)
_STAFF_ROLES: set[Role] = {"admin", "agent"}
# A cached role standing for "refused: the dealership is suspended" (never a real role).
SUSPENDED = "suspended"


# Only declared so the OpenAPI document shows the bearer scheme on the routes; the parent class
# reads the header itself.
_BEARER = HTTPBearer(auto_error=False, description="A staff JWT from routing's `POST /api/v1/auth/login`")


class StaffDirectoryUnavailable(Exception):
    """Routing did not answer usefully: whether the user is still staff is unknown."""


class CurrentRoleCache:
    """(account, user) → the current role, or None when the user must be refused (SUSPENDED when
    because their dealership is suspended), and when their sessions were last ended (tokens
    issued before are refused); each answer kept `ttl` seconds.
    Bounded: expired entries are swept when full, everything if still full."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic, max_entries: int = 10_000):
        self._ttl = ttl
        self._clock = clock
        self._max_entries = max_entries
        self._entries: dict[tuple[UUID, UUID], tuple[float, str | None, datetime | None]] = {}

    def get(self, account_id: UUID, user_id: UUID) -> tuple[bool, str | None]:
        """(found, role): `found` is False when nothing fresh is cached."""
        found, role, _ = self.get_state(account_id, user_id)
        return found, role

    def get_state(self, account_id: UUID, user_id: UUID) -> tuple[bool, str | None, datetime | None]:
        """(found, role, sessions_valid_after)."""
        entry = self._entries.get((account_id, user_id))
        if entry is None or entry[0] <= self._clock():
            return False, None, None
        return True, entry[1], entry[2]

    def put(
        self,
        account_id: UUID,
        user_id: UUID,
        role: str | None,
        sessions_valid_after: datetime | None = None,
    ) -> None:
        now = self._clock()
        if len(self._entries) >= self._max_entries:
            self._entries = {key: entry for key, entry in self._entries.items() if entry[0] > now}
            if len(self._entries) >= self._max_entries:
                self._entries.clear()
        self._entries[(account_id, user_id)] = (now + self._ttl, role, sessions_valid_after)

    def forget(self, account_id: UUID, user_id: UUID) -> None:
        self._entries.pop((account_id, user_id), None)

    def __len__(self) -> int:
        return len(self._entries)


class RoutingStaffDirectory:
    """Asks routing for one user's current role: None when routing does not know them in the
    account, or they are deactivated."""

    def __init__(self, settings: ServiceSettings, http: httpx.AsyncClient, base_url: str) -> None:
        self._settings = settings
        self._http = http
        self._base_url = base_url.rstrip("/")

    async def current_role(self, account_id: UUID, user_id: UUID) -> str | None:
        role, _ = await self.current_state(account_id, user_id)
        return role

    async def current_state(self, account_id: UUID, user_id: UUID) -> tuple[str | None, datetime | None]:
        """(role or None, when the user's sessions were last ended or None); the role is
        SUSPENDED when routing says the user's dealership is suspended."""
        token = issue_token(
            self._settings, self._settings.service_name, account_id, "service", ttl=_SERVICE_TOKEN_TTL
        )
        try:
            response = await self._http.get(
                f"{self._base_url}/api/v1/users/{user_id}", headers={"authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError as exc:
            raise StaffDirectoryUnavailable(f"routing did not answer ({type(exc).__name__})") from exc
        if response.status_code == 404:
            return None, None
        if response.status_code != 200:
            raise StaffDirectoryUnavailable(f"routing answered {response.status_code}")
        try:
            body = response.json()
            active, role = body["active"], body["role"]
            valid_after = body.get("sessions_valid_after")
            valid_after = datetime.fromisoformat(valid_after) if valid_after else None
        except (ValueError, KeyError, TypeError) as exc:
            raise StaffDirectoryUnavailable("routing's answer is not a staff user") from exc
        if active is not True or role not in _STAFF_ROLES:
            return None, None
        if body.get("account_suspended") is True:
            return SUSPENDED, None
        return role, valid_after


class CurrentStaffAuthenticated(Authenticated):
    """FastAPI dependency: the caller's principal, a staff member who is still active, with their
    current role (a demoted admin is an agent within `cache_seconds`, whatever the token says).
    401 for a deactivated or unknown user (`dealership_suspended` when their dealership is
    suspended: routing says so in the same answer), 503 when routing cannot tell. Service tokens pass
    unchanged when `allow_service`, otherwise 403."""

    def __init__(
        self,
        settings: ServiceSettings,
        directory: RoutingStaffDirectory,
        *,
        allow_service: bool = False,
        cache_seconds: float = 5.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
        allow_query_token: bool = False,
    ) -> None:
        super().__init__(settings, allow_query_token=allow_query_token)
        self._directory = directory
        self._allow_service = allow_service
        self._cache = CurrentRoleCache(cache_seconds, clock, max_entries)

    async def __call__(  # type: ignore[override]
        self,
        request: Request,
        _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)] = None,
    ) -> Principal:
        principal = await super().__call__(request)
        if principal.role == "service":
            if self._allow_service:
                return principal
            raise ApiError(403, "forbidden", "staff only")
        try:
            user_id = principal.user_id
        except ValueError as exc:
            raise ApiError(401, "unauthorized", "the token does not name a staff member") from exc
        found, role, valid_after = self._cache.get_state(principal.account_id, user_id)
        if not found:
            try:
                role, valid_after = await self._directory.current_state(principal.account_id, user_id)
            except StaffDirectoryUnavailable as exc:
                raise ApiError(
                    503,
                    "auth_unavailable",
                    "your access cannot be checked right now; try again shortly",
                    {"reason": str(exc)},
                ) from exc
            if role != SUSPENDED:  # asked again each time, so a resume lets them in at once
                self._cache.put(principal.account_id, user_id, role, valid_after)
        if role == SUSPENDED:
            raise refuse_suspended()
        if role is None or ended_sessions(principal, valid_after):
            raise ApiError(401, "unauthorized", "invalid or expired token")
        return replace(principal, role=role)  # type: ignore[arg-type]


def admins_only(auth: Callable, refusal: str) -> Callable:
    """A dependency: the caller `auth` lets in, refused with 403 `refusal` unless an admin (with
    CurrentStaffAuthenticated, an admin now, not only when the token was issued)."""

    async def admin(principal: Annotated[Principal, Depends(auth)]) -> Principal:
        if not principal.is_admin:
            raise ApiError(403, "forbidden", refusal)
        return principal

    return admin
