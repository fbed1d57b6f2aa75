"""Carrier credentials per Switchboard account, and adapters built from them (cached briefly).
Admins set them through `api/carrier_accounts.py`; devtools/seed.py writes the demo's."""

import time
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

import httpx
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier.outbound.carriers.account_check import AccountCheck, check_account
from notifier.outbound.carriers.base import CarrierAdapter
from notifier.outbound.carriers.telnyx import TelnyxAdapter
from notifier.outbound.carriers.twilio import TwilioAdapter
from notifier.outbound.settings import OutboundSettings


@dataclass(frozen=True)
class CarrierCredentials:
    carrier: str
    secret: SecretStr = field(repr=False)
    account_sid: str | None = None
    messaging_profile_id: str | None = None


@dataclass(frozen=True)
class StoredCarrierAccount:
    """A row as an admin may see it: `secret` is only there to derive a masked hint from."""

    carrier: str
    account_sid: str | None
    secret: SecretStr = field(repr=False)
    messaging_profile_id: str | None
    updated_at: datetime


class AccountSidTaken(Exception):
    """The Twilio AccountSid is already another Switchboard account's."""


async def save_carrier_account(
    session: AsyncSession,
    account_id: UUID,
    carrier: str,
    secret: str,
    account_sid: str | None = None,
    messaging_profile_id: str | None = None,
) -> None:
    await session.execute(
        text(
            "INSERT INTO notifier.carrier_accounts"
            " (account_id, carrier, account_sid, secret, messaging_profile_id)"
            " VALUES (:account, :carrier, :sid, :secret, :profile)"
            " ON CONFLICT (account_id, carrier) DO UPDATE SET account_sid = excluded.account_sid,"
            " secret = excluded.secret, messaging_profile_id = excluded.messaging_profile_id,"
            " updated_at = now()"
        ),
        {
            "account": account_id,
            "carrier": carrier,
            "sid": account_sid,
            "secret": secret,
            "profile": messaging_profile_id,
        },
    )


async def load_carrier_account(
    session: AsyncSession, account_id: UUID, carrier: str
) -> CarrierCredentials | None:
    row = (
        await session.execute(
            text(
                "SELECT account_sid, secret, messaging_profile_id FROM notifier.carrier_accounts"
                " WHERE account_id = :account AND carrier = :carrier"
            ),
            {"account": account_id, "carrier": carrier},
        )
    ).first()
    if row is None:
        return None
    return CarrierCredentials(carrier, SecretStr(row.secret), row.account_sid, row.messaging_profile_id)


async def set_carrier_account(
    session: AsyncSession,
    account_id: UUID,
    carrier: str,
    secret: str,
    account_sid: str | None = None,
    messaging_profile_id: str | None = None,
) -> None:
    """`save_carrier_account` for an admin: refuses (AccountSidTaken, nothing changed) a Twilio
    AccountSid another account already has, whose status callbacks ingest attributes to that
    account. Nothing in the table forbids sharing a SID, so a transaction lock per SID keeps two
    accounts from taking the same one at once."""
    if account_sid is not None:
        await session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended('notifier.carrier_accounts:' || :sid, 0))"),
            {"sid": account_sid},
        )
        taken = await session.execute(
            text(
                "SELECT 1 FROM notifier.carrier_accounts"
                " WHERE carrier = :carrier AND account_sid = :sid AND account_id <> :account"
            ),
            {"carrier": carrier, "sid": account_sid, "account": account_id},
        )
        if taken.first() is not None:
            raise AccountSidTaken(account_sid)
    await save_carrier_account(session, account_id, carrier, secret, account_sid, messaging_profile_id)


async def delete_carrier_account(session: AsyncSession, account_id: UUID, carrier: str) -> bool:
    removed = await session.execute(
        text(
            "DELETE FROM notifier.carrier_accounts WHERE account_id = :account AND carrier = :carrier"
            " RETURNING 1"
        ),
        {"account": account_id, "carrier": carrier},
    )
    return removed.first() is not None


async def stored_carrier_accounts(session: AsyncSession, account_id: UUID) -> list[StoredCarrierAccount]:
    rows = await session.execute(
        text(
            "SELECT carrier, account_sid, secret, messaging_profile_id, updated_at"
            " FROM notifier.carrier_accounts WHERE account_id = :account ORDER BY carrier DESC"
        ),
        {"account": account_id},
    )
    return [
        StoredCarrierAccount(
            row.carrier, row.account_sid, SecretStr(row.secret), row.messaging_profile_id, row.updated_at
        )
        for row in rows
    ]


class CarrierAdapters:
    """The adapter for an account's carrier; None when the account has no credentials for it.

    Adapters are cached `carrier_credentials_cache_seconds`; an admin's change calls `forget` on
    this process's instance at once, other replicas keep theirs until it expires."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        settings: OutboundSettings,
    ) -> None:
        self._sessions = sessions
        self._client = client
        self._settings = settings
        self._cache: dict[tuple[UUID, str], tuple[float, CarrierAdapter | None]] = {}

    def forget(self, account_id: UUID, carrier: str) -> None:
        self._cache.pop((account_id, carrier), None)

    async def for_account(self, account_id: UUID, carrier: str) -> CarrierAdapter | None:
        key = (account_id, carrier)
        cached = self._cache.get(key)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        async with self._sessions() as session:
            credentials = await load_carrier_account(session, account_id, carrier)
        adapter = self._build(credentials) if credentials else None
        self._cache[key] = (time.monotonic() + self._settings.carrier_credentials_cache_seconds, adapter)
        return adapter

    async def check(self, account_id: UUID, carrier: str) -> AccountCheck | None:
        """Asks the carrier whether it accepts the stored credentials (never the cache: an admin
        tests what they just saved). None when the account has no credentials for it."""
        async with self._sessions() as session:
            credentials = await load_carrier_account(session, account_id, carrier)
        if credentials is None:
            return None
        base = (
            self._settings.twilio_api_base_url if carrier == "twilio" else self._settings.telnyx_api_base_url
        )
        return await check_account(self._client, base, credentials, self._settings.carrier_timeout_seconds)

    def _build(self, credentials: CarrierCredentials) -> CarrierAdapter | None:
        callbacks = self._settings.carrier_callback_base_url.rstrip("/")
        if credentials.carrier == "twilio" and credentials.account_sid:
            return TwilioAdapter(
                self._client,
                self._settings.twilio_api_base_url,
                credentials.account_sid,
                credentials.secret,
                f"{callbacks}/webhooks/twilio/status",
            )
        if credentials.carrier == "telnyx":
            return TelnyxAdapter(
                self._client,
                self._settings.telnyx_api_base_url,
                credentials.secret,
                f"{callbacks}/webhooks/telnyx",
                credentials.messaging_profile_id,
            )
        return None
