"""The credentials an account's admin sets for verifying its carriers' webhooks: one Twilio
account (AccountSid and auth token) and one Telnyx public key per Switchboard account. Every
query is scoped by the caller's account; secrets are written here and read only by the webhook
checks (`repository.TwilioCredentials`), never listed."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


class AccountSidTaken(Exception):
    """The Twilio AccountSid already verifies another Switchboard account's webhooks."""


@dataclass(frozen=True)
class TwilioAccountRow:
    account_sid: str
    auth_token: str
    updated_at: datetime

    def __repr__(self) -> str:  # never the token, even in a traceback
        return f"TwilioAccountRow(account_sid={self.account_sid!r}, updated_at={self.updated_at!r})"


@dataclass(frozen=True)
class TelnyxAccountRow:
    public_key: str
    numbers: list[str]
    updated_at: datetime
    api_key: str | None = None

    def __repr__(self) -> str:  # never the API key
        return f"TelnyxAccountRow(public_key={self.public_key!r}, numbers={self.numbers!r})"


async def set_twilio_account(
    session: AsyncSession, account_id: UUID, account_sid: str, auth_token: str
) -> list[str]:
    """The account's Twilio account is this one, with this token. Returns the SIDs whose
    credentials changed (this one, and a previous SID of the account, now forgotten). Raises
    AccountSidTaken, changing nothing, when the SID belongs to another account: one insert that
    only updates the account's own row, so two accounts racing for a SID cannot both win."""
    saved = await session.execute(
        text(
            "INSERT INTO ingest.twilio_accounts (account_sid, auth_token, account_id)"
            " VALUES (:sid, :token, :account) ON CONFLICT (account_sid) DO UPDATE"
            " SET auth_token = excluded.auth_token, updated_at = now()"
            " WHERE ingest.twilio_accounts.account_id = excluded.account_id RETURNING 1"
        ),
        {"sid": account_sid, "token": auth_token, "account": account_id},
    )
    if saved.first() is None:
        raise AccountSidTaken(account_sid)
    replaced = await session.execute(
        text(
            "DELETE FROM ingest.twilio_accounts WHERE account_id = :account AND account_sid <> :sid"
            " RETURNING account_sid"
        ),
        {"account": account_id, "sid": account_sid},
    )
    return [account_sid, *replaced.scalars()]


async def delete_twilio_accounts(session: AsyncSession, account_id: UUID) -> list[str]:
    """Forgets the account's Twilio credentials; the SIDs removed (none: nothing was set)."""
    removed = await session.execute(
        text("DELETE FROM ingest.twilio_accounts WHERE account_id = :account RETURNING account_sid"),
        {"account": account_id},
    )
    return list(removed.scalars())


async def twilio_accounts(session: AsyncSession, account_id: UUID) -> list[TwilioAccountRow]:
    rows = await session.execute(
        text(
            "SELECT account_sid, auth_token, updated_at FROM ingest.twilio_accounts"
            " WHERE account_id = :account ORDER BY account_sid"
        ),
        {"account": account_id},
    )
    return [TwilioAccountRow(row.account_sid, row.auth_token, row.updated_at) for row in rows]


async def set_telnyx_key(session: AsyncSession, account_id: UUID, public_key: str) -> None:
    """The account's Telnyx public key; its numbers (kept from routing's events) verify with it."""
    await session.execute(
        text(
            "INSERT INTO ingest.telnyx_accounts (account_id, public_key) VALUES (:account, :key)"
            " ON CONFLICT (account_id) DO UPDATE SET public_key = excluded.public_key, updated_at = now()"
        ),
        {"account": account_id, "key": public_key},
    )


async def delete_telnyx_key(session: AsyncSession, account_id: UUID) -> bool:
    """Forgets the key (its numbers stay known, refused until a key is set again)."""
    removed = await session.execute(
        text("DELETE FROM ingest.telnyx_accounts WHERE account_id = :account RETURNING 1"),
        {"account": account_id},
    )
    return removed.first() is not None


async def telnyx_account(session: AsyncSession, account_id: UUID) -> TelnyxAccountRow | None:
    row = (
        await session.execute(
            text(
                "SELECT public_key, updated_at, api_key, ARRAY(SELECT e164 FROM ingest.telnyx_numbers n"
                " WHERE n.account_id = a.account_id ORDER BY e164) AS numbers"
                " FROM ingest.telnyx_accounts a WHERE account_id = :account"
            ),
            {"account": account_id},
        )
    ).first()
    if row is None:
        return None
    return TelnyxAccountRow(row.public_key, list(row.numbers), row.updated_at, row.api_key)
