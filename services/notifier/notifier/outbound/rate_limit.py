"""Per-sending-number rate limit whose state lives in Postgres, so it holds across replicas and
across a Kafka rebalance (a new owner of a number continues where the old one stopped).

A sender takes the number (`busy_until`, a short lease) when `next_allowed_at` has passed, calls
the carrier, and on the answer sets `next_allowed_at` one interval after that answer. The carrier
received the previous text before we got its answer, so texts arrive at least one interval
apart at the carrier, however long each request took and however many replicas try at once.
No connection is held while waiting or sending."""

import asyncio
from collections.abc import Awaitable, Callable

import phonenumbers
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier.outbound.settings import OutboundSettings

Sleep = Callable[[float], Awaitable[None]]

# How often a sender looks again while another holds the number (only under contention).
_BUSY_POLL_SECONDS = 0.02


def default_per_second(from_number: str, settings: OutboundSettings) -> float:
    """The configured rate of a number: its own (RATE_PER_NUMBER), else by kind of number."""
    configured = settings.rate_per_number.get(from_number)
    if configured and configured > 0:
        return configured
    try:
        kind = phonenumbers.number_type(phonenumbers.parse(from_number))
    except phonenumbers.NumberParseException:
        kind = None
    if kind == phonenumbers.PhoneNumberType.TOLL_FREE:
        return settings.rate_toll_free_per_second
    return settings.rate_long_code_per_second


class SendingRateLimiter:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: OutboundSettings,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._sleep = sleep
        # Longer than any one request can take (the HTTP client's timeout), so a dead sender's
        # hold runs out on its own.
        self._hold_seconds = settings.carrier_timeout_seconds * 2 + 5

    def _default_interval(self, from_number: str) -> float:
        return 1.0 / default_per_second(from_number, self._settings)

    async def acquire(self, from_number: str) -> bool:
        """Waits until this replica holds the number and its next slot has come."""
        if not self._settings.outbound_rate_limits_enabled:
            return False
        while True:
            wait = await self._try_take(from_number)
            if wait is None:
                return True
            await self._sleep(wait)

    async def _try_take(self, from_number: str) -> float | None:
        """None when taken; else how long to wait before trying again."""
        async with self._sessions.begin() as session:
            taken = (
                await session.execute(
                    text(
                        "INSERT INTO notifier.sending_numbers AS s (from_number, next_allowed_at, busy_until)"
                        " VALUES (:n, clock_timestamp(), clock_timestamp() + make_interval(secs => :hold))"
                        " ON CONFLICT (from_number) DO UPDATE"
                        " SET busy_until = clock_timestamp() + make_interval(secs => :hold)"
                        " WHERE s.next_allowed_at <= clock_timestamp()"
                        "   AND (s.busy_until IS NULL OR s.busy_until <= clock_timestamp())"
                        " RETURNING 1"
                    ),
                    {"n": from_number, "hold": self._hold_seconds},
                )
            ).first()
            if taken:
                return None
            row = (
                await session.execute(
                    text(
                        "SELECT EXTRACT(EPOCH FROM next_allowed_at - clock_timestamp())::float8"
                        " AS until_next,"
                        " EXTRACT(EPOCH FROM busy_until - clock_timestamp())::float8 AS until_free"
                        " FROM notifier.sending_numbers WHERE from_number = :n"
                    ),
                    {"n": from_number},
                )
            ).first()
        if row is None:
            return 0.0
        if row.until_free is not None and row.until_free > 0:
            return min(row.until_free, _BUSY_POLL_SECONDS)
        return max(row.until_next or 0.0, 0.0)

    async def release(self, from_number: str) -> None:
        """After the carrier answered (or did not): the next text waits a full interval from now."""
        if not self._settings.outbound_rate_limits_enabled:
            return
        async with self._sessions.begin() as session:
            await session.execute(
                text(
                    "UPDATE notifier.sending_numbers SET busy_until = NULL, next_allowed_at ="
                    " clock_timestamp() + make_interval(secs => :interval)"
                    " WHERE from_number = :n"
                ),
                {"n": from_number, "interval": self._default_interval(from_number)},
            )
