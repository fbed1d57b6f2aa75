"""ingest's copy of which account receives on which Telnyx number, kept from routing's
`phone_number.changed.v1` (routing holds the numbers; the public key stays per account here)."""

from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def has_telnyx_key(session: AsyncSession, account_id: UUID) -> bool:
    found = await session.execute(
        text("SELECT 1 FROM ingest.telnyx_accounts WHERE account_id = :account"), {"account": account_id}
    )
    return found.first() is not None


async def register_telnyx_number(session: AsyncSession, account_id: UUID, e164: str) -> None:
    # A number moved to another account (removed there, added here) follows the latest change.
    await session.execute(
        text(
            "INSERT INTO ingest.telnyx_numbers (e164, account_id) VALUES (:e164, :account)"
            " ON CONFLICT (e164) DO UPDATE SET account_id = excluded.account_id"
        ),
        {"e164": e164, "account": account_id},
    )


async def forget_telnyx_number(session: AsyncSession, account_id: UUID, e164: str) -> bool:
    """Only the account's own row: a number already registered to another account stays there."""
    removed = await session.execute(
        text("DELETE FROM ingest.telnyx_numbers WHERE e164 = :e164 AND account_id = :account RETURNING 1"),
        {"e164": e164, "account": account_id},
    )
    return removed.first() is not None
