"""Sign-in throttling: guessing passwords gets slow, and an attacker cannot lock a real person
out for long.

Failed sign-ins are counted under three keys, in a short window (15 minutes by default):
- the e-mail from one address: a few failures are free, then each further one doubles the wait
  before the next try (1 s, 2 s, 4 s... at most the window). This is what a person who mistypes
  meets, and what stops one attacker guessing one person's password.
- the e-mail from every address: a ceiling (50) that stops a guess spread over many addresses;
  it ends with its window, so the longest anyone can keep a real person out is the window, and
  only by failing from many addresses all along.
- the address over every e-mail: a ceiling (100) that stops trying one password on many people.

A success forgets the e-mail's failures from that address. Unknown e-mails are counted the same
way, so the answer says nothing about who has an account. Counts live in PostgreSQL (an UNLOGGED
table: every replica sees them; a crash forgets them, which only lets a few more tries through).
Two concurrent tries may both pass the check: the count still grows, and the next one waits.

The address is the connection's (uvicorn takes X-Forwarded-For from the proxies listed in
FORWARDED_ALLOW_IPS)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from routing.settings import RoutingSettings


@dataclass(frozen=True)
class ThrottlePolicy:
    free_failures: int = 5
    first_wait_seconds: float = 1.0
    account_ceiling: int = 50
    address_ceiling: int = 100
    window_seconds: float = 900.0

    @property
    def window(self) -> timedelta:
        return timedelta(seconds=self.window_seconds)

    @classmethod
    def of(cls, settings: RoutingSettings) -> "ThrottlePolicy":
        return cls(
            free_failures=settings.login_free_failures,
            account_ceiling=settings.login_account_ceiling,
            address_ceiling=settings.login_address_ceiling,
            window_seconds=settings.login_window_seconds,
        )


@dataclass(frozen=True)
class FailureCount:
    failures: int
    window_started: datetime
    last_failure: datetime


def _keys(email: str, address: str) -> dict[str, str]:
    email = email.strip().lower()
    return {"pair": f"pair:{email}|{address}", "account": f"account:{email}", "address": f"address:{address}"}


def seconds_to_wait(policy: ThrottlePolicy, counts: dict[str, FailureCount], now: datetime) -> int:
    """How long the next try must wait (whole seconds, 0 when it may go ahead), from the counts
    under each key (missing: none)."""
    until = now

    def current(kind: str) -> FailureCount | None:
        count = counts.get(kind)
        return count if count and now - count.window_started < policy.window else None

    if (pair := current("pair")) and pair.failures >= policy.free_failures:
        doublings = min(pair.failures - policy.free_failures, 30)
        wait = min(policy.first_wait_seconds * 2**doublings, policy.window_seconds)
        until = max(until, pair.last_failure + timedelta(seconds=wait))
    for kind, ceiling in (("account", policy.account_ceiling), ("address", policy.address_ceiling)):
        if (count := current(kind)) and count.failures >= ceiling:
            until = max(until, count.window_started + policy.window)
    remaining = (until - now).total_seconds()
    return 0 if remaining <= 0 else int(remaining) + (0 if remaining.is_integer() else 1)


class LoginThrottle:
    def __init__(self, policy: ThrottlePolicy) -> None:
        self.policy = policy

    async def seconds_to_wait(self, session: AsyncSession, email: str, address: str, now: datetime) -> int:
        keys = _keys(email, address)
        rows = (
            await session.execute(
                text(
                    "SELECT key, failures, window_started, last_failure FROM routing.login_failures"
                    " WHERE key = ANY(:keys)"
                ),
                {"keys": list(keys.values())},
            )
        ).all()
        by_key = {row.key: FailureCount(row.failures, row.window_started, row.last_failure) for row in rows}
        counts = {kind: by_key[key] for kind, key in keys.items() if key in by_key}
        return seconds_to_wait(self.policy, counts, now)

    async def record_failure(self, session: AsyncSession, email: str, address: str, now: datetime) -> None:
        # A window that ended starts again at this failure.
        await session.execute(
            text(
                "INSERT INTO routing.login_failures AS f (key, failures, window_started, last_failure)"
                " SELECT key, 1, :now, :now FROM unnest(CAST(:keys AS text[])) AS key"
                " ON CONFLICT (key) DO UPDATE SET"
                "  failures = CASE WHEN f.window_started <= :ended THEN 1 ELSE f.failures + 1 END,"
                "  window_started = CASE WHEN f.window_started <= :ended THEN :now ELSE f.window_started END,"
                "  last_failure = :now"
            ),
            {"keys": sorted(_keys(email, address).values()), "now": now, "ended": now - self.policy.window},
        )
        # Rows whose window ended long ago count for nothing (indexed: cheap).
        await session.execute(
            text("DELETE FROM routing.login_failures WHERE last_failure < :before"),
            {"before": now - 2 * self.policy.window},
        )

    async def record_success(self, session: AsyncSession, email: str, address: str) -> None:
        await session.execute(
            text("DELETE FROM routing.login_failures WHERE key = :key"),
            {"key": _keys(email, address)["pair"]},
        )
