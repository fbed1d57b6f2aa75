"""Refusing the staff of a suspended dealership in a service that keeps its own projection of
suspended accounts (from routing's `dealership.suspended.v1` / `dealership.resumed.v1`).

Few dealerships are ever suspended at once, so each process keeps the whole set in memory and
re-reads it from its own table at most every `refresh_seconds`: the check per request is a set
lookup, and a suspension reaches every replica within that time (at once on the replica whose
consumer applied it, which calls `forget`). Services without such a projection learn it from
routing's answer about the token's user (shared/http/staff.py)."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from uuid import UUID

import structlog

from shared.http.errors import ApiError

log = structlog.get_logger(__name__)

# What a staff member of a suspended dealership is told by every service (401
# `dealership_suspended`): their session ends at their next call.
SUSPENDED_MESSAGE = "your dealership's access to Switchboard is suspended; contact your Switchboard provider"


def refuse_suspended() -> ApiError:
    return ApiError(401, "dealership_suspended", SUSPENDED_MESSAGE)


class SuspendedAccounts:
    """`load` reads the service's projection: the ids of the accounts suspended now."""

    def __init__(
        self,
        load: Callable[[], Awaitable[set[UUID]]],
        refresh_seconds: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        self._ids: set[UUID] | None = None
        self._fresh_until = 0.0
        self._lock = asyncio.Lock()

    async def contains(self, account_id: UUID) -> bool:
        if self._ids is None or self._clock() >= self._fresh_until:
            await self._reload()
        return account_id in (self._ids or set())

    def forget(self) -> None:
        """The next check reads the table again (this replica just changed it)."""
        self._fresh_until = 0.0

    async def _reload(self) -> None:
        async with self._lock:  # one read for the requests that arrive together
            if self._ids is not None and self._clock() < self._fresh_until:
                return
            try:
                self._ids = await self._load()
            except Exception as exc:
                if self._ids is None:
                    raise ApiError(
                        503, "auth_unavailable", "your access cannot be checked right now; try again shortly"
                    ) from exc
                # The database hiccupped: the last known set stays (seconds old), and is retried.
                log.warning("suspended accounts not re-read; keeping the last known", error=repr(exc))
            self._fresh_until = self._clock() + self._refresh_seconds
