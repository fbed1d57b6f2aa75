"""Staff e-mail addresses, from routing (which owns users): `GET /api/v1/users/{id}` with a
short-lived service token of the user's account. Answers are cached briefly per process."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import httpx

from shared.http.auth import issue_token
from shared.settings import ServiceSettings


@dataclass(frozen=True)
class StaffMember:
    id: UUID
    name: str
    email: str | None
    role: str
    active: bool


class UserNotFound(Exception):
    """Routing does not know this user in this account: asking again will not help."""


class DirectoryUnavailable(Exception):
    """Routing did not answer usefully this time: try again later."""


class UserDirectory:
    def __init__(
        self,
        settings: ServiceSettings,
        base_url: str,
        http: httpx.AsyncClient,
        cache_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 10_000,
    ) -> None:
        self._settings = settings
        self._base_url = base_url.rstrip("/")
        self._http = http
        self._ttl = cache_seconds
        self._clock = clock
        self._max_entries = max_entries
        self._cache: dict[tuple[UUID, UUID], tuple[float, StaffMember]] = {}

    async def get(self, account_id: UUID, user_id: UUID) -> StaffMember:
        key = (account_id, user_id)
        cached = self._cache.get(key)
        if cached and cached[0] > self._clock():
            return cached[1]
        member = await self._fetch(account_id, user_id)
        if len(self._cache) >= self._max_entries:
            self._cache.clear()
        self._cache[key] = (self._clock() + self._ttl, member)
        return member

    async def _fetch(self, account_id: UUID, user_id: UUID) -> StaffMember:
        token = issue_token(self._settings, "notifier", account_id, "service", ttl=timedelta(minutes=5))
        try:
            response = await self._http.get(
                f"{self._base_url}/api/v1/users/{user_id}", headers={"authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError as exc:
            raise DirectoryUnavailable(f"routing did not answer: {exc!r}") from exc
        if response.status_code == 404:
            raise UserNotFound(f"user {user_id} not found in the account")
        if response.status_code != 200:
            raise DirectoryUnavailable(f"routing answered {response.status_code} for user {user_id}")
        try:
            body = response.json()
            return StaffMember(
                id=UUID(str(body["id"])),
                name=str(body.get("name") or ""),
                email=body.get("email") or None,
                role=str(body.get("role") or ""),
                active=bool(body.get("active", True)),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise DirectoryUnavailable(f"routing's answer for user {user_id} is not usable: {exc!r}") from exc
