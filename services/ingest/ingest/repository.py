"""ingest's queries: carrier credentials, webhook claims, rejected inputs."""

import time
from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ingest.carrier_account_repository import set_telnyx_key
from ingest.catch_up_repository import register_number, set_telnyx_api_key
from ingest.number_repository import register_telnyx_number


class TwilioCredentials:
    """Auth tokens by Twilio AccountSid, cached briefly: every webhook needs one."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], ttl_seconds: float) -> None:
        self._sessions = sessions
        self._ttl = ttl_seconds
        self._cache: dict[str, tuple[float, tuple[str, UUID] | None]] = {}

    async def lookup(self, account_sid: str) -> tuple[str, UUID] | None:
        """(auth token, Switchboard account id) for a Twilio AccountSid, or None."""
        cached = self._cache.get(account_sid)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        async with self._sessions() as session:
            row = (
                await session.execute(
                    text(
                        "SELECT auth_token, account_id FROM ingest.twilio_accounts WHERE account_sid = :sid"
                    ),
                    {"sid": account_sid},
                )
            ).first()
        found = (row.auth_token, row.account_id) if row else None
        self._cache[account_sid] = (time.monotonic() + self._ttl, found)
        return found

    def forget(self, *account_sids: str) -> None:
        """Drop what this process remembers of these SIDs (their credentials just changed);
        other replicas see the change when their entry expires."""
        for account_sid in account_sids:
            self._cache.pop(account_sid, None)


class TelnyxKeys:
    """(public key, Switchboard account id) by the dealership number a webhook names, cached
    briefly like Twilio's tokens."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], ttl_seconds: float) -> None:
        self._sessions = sessions
        self._ttl = ttl_seconds
        self._cache: dict[str, tuple[float, tuple[str, UUID] | None]] = {}

    async def lookup(self, e164: str) -> tuple[str, UUID] | None:
        cached = self._cache.get(e164)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        async with self._sessions() as session:
            row = (
                await session.execute(
                    text(
                        "SELECT a.public_key, a.account_id FROM ingest.telnyx_numbers n"
                        " JOIN ingest.telnyx_accounts a USING (account_id) WHERE n.e164 = :e164"
                    ),
                    {"e164": e164},
                )
            ).first()
        found = (row.public_key, row.account_id) if row else None
        self._cache[e164] = (time.monotonic() + self._ttl, found)
        return found

    def forget_account(self, account_id: UUID) -> None:
        """Drop this process's entries for the account's numbers (its key just changed), and the
        misses: a number without a key until now may be one of them."""
        self._cache = {
            e164: entry
            for e164, entry in self._cache.items()
            if entry[1] is not None and entry[1][1] != account_id
        }


async def save_telnyx_account(
    session: AsyncSession,
    account_id: UUID,
    public_key: str,
    numbers: list[str],
    api_key: str | None = None,
) -> None:
    """For seeding: the account's Telnyx public key, the numbers it receives on and, for
    catch-up, its API key (idempotent)."""
    await set_telnyx_key(session, account_id, public_key)
    if api_key is not None:
        await set_telnyx_api_key(session, account_id, api_key)
    for e164 in numbers:
        await register_telnyx_number(session, account_id, e164)
        await register_number(session, account_id, e164, "telnyx")


async def save_twilio_account(
    session: AsyncSession, account_sid: str, auth_token: str, account_id: UUID, numbers: Sequence[str] = ()
) -> None:
    """For seeding: takes the SID whoever held it. Admins go through
    `carrier_account_repository.set_twilio_account`, which refuses another account's SID."""
    await session.execute(
        text(
            "INSERT INTO ingest.twilio_accounts (account_sid, auth_token, account_id)"
            " VALUES (:sid, :token, :account) ON CONFLICT (account_sid)"
            " DO UPDATE SET auth_token = excluded.auth_token, account_id = excluded.account_id,"
            " updated_at = now()"
        ),
        {"sid": account_sid, "token": auth_token, "account": account_id},
    )
    # Outside seeding, routing's phone_number.changed.v1 tells ingest the numbers to catch up on.
    for e164 in numbers:
        await register_number(session, account_id, e164, "twilio")


async def record_rejected(
    session: AsyncSession, source: str, reason: str, payload: str, account_id: UUID | None
) -> None:
    await session.execute(
        text(
            "INSERT INTO ingest.rejected_inputs (source, account_id, reason, payload)"
            " VALUES (:source, :account, :reason, :payload)"
        ),
        {"source": source, "account": account_id, "reason": reason, "payload": payload},
    )
