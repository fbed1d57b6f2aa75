"""Settling the inbox counters: an account's ledger rows (`conversation_counters`, appended by
the triggers of migration 0014c, one per group a statement moved) replaced by their sums, so
that reading the numbers stays a sum over a few hundred rows however busy the account is.

Settling changes no total, so it is safe at any time and on every replica at once: it deletes
the rows its snapshot sees and inserts their sums in one statement. A change not yet committed
is not seen, so not deleted, and counts when it commits; rows that a concurrent settle deleted
first are skipped (READ COMMITTED re-checks a row it waited for), so each row is summed once.
A reader sees the ledger either before or after a settle, both with the same totals."""

import asyncio
import contextlib

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = structlog.get_logger(__name__)

ACCOUNTS_PER_BATCH = 100

_ACCOUNTS_WITH_CHANGES = text(
    "SELECT DISTINCT account_id FROM routing.conversation_counters WHERE NOT settled LIMIT :limit"
)
_KEY = "account_id, status, assignee_user_id, assignee_team_id, is_read, is_unanswered"
_SETTLE = text(
    f"""
    WITH taken AS (
        DELETE FROM routing.conversation_counters WHERE account_id = ANY(:accounts)
        RETURNING {_KEY}, n
    )
    INSERT INTO routing.conversation_counters ({_KEY}, n, settled)
    SELECT {_KEY}, sum(n), true FROM taken
    GROUP BY {_KEY}
    HAVING sum(n) <> 0"""
)


async def settle_counters(session: AsyncSession, accounts_per_batch: int = ACCOUNTS_PER_BATCH) -> int:
    """Settles up to `accounts_per_batch` accounts that have unsettled changes, in the caller's
    transaction; how many accounts it settled (0: nothing to do)."""
    accounts = list(await session.scalars(_ACCOUNTS_WITH_CHANGES, {"limit": accounts_per_batch}))
    if accounts:
        await session.execute(_SETTLE, {"accounts": accounts})
    return len(accounts)


class CounterSettler:
    """Settles every `interval` seconds, a batch of accounts per transaction, until none is
    left; a failure is logged and the next tick tries again (the numbers stay right meanwhile,
    only the ledger grows)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], interval: float) -> None:
        self._sessions = sessions
        self._interval = interval

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.settle(stop)
            except Exception:
                log.exception("settling the inbox counters failed; trying again at the next tick")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._interval)

    async def settle(self, stop: asyncio.Event | None = None) -> None:
        """One round over the accounts with changes (a full batch means there may be more;
        changes that keep coming wait for the next tick)."""
        while stop is None or not stop.is_set():
            async with self._sessions.begin() as session:
                if await settle_counters(session, ACCOUNTS_PER_BATCH) < ACCOUNTS_PER_BATCH:
                    return
