"""Setting the credentials ingest verifies a dealership's carrier webhooks with: what the admin's
`/api/v1/carrier-webhook-credentials` runs, and what the demo seed runs for Demo Motors. The API
also drops this process's cached entries; a caller without a cache (the seed) has none to drop."""

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from ingest import carrier_account_repository as accounts
from ingest import catch_up_repository as catch_up

AccountSidTaken = accounts.AccountSidTaken


async def set_twilio_webhook_credentials(
    session: AsyncSession, account_id: UUID, account_sid: str, auth_token: str
) -> list[str]:
    """Replaces the dealership's Twilio account; the Account SIDs whose cached entries changed.
    Raises AccountSidTaken when another dealership has this SID (it is never moved)."""
    return await accounts.set_twilio_account(session, account_id, account_sid, auth_token)


async def set_telnyx_webhook_key(
    session: AsyncSession, account_id: UUID, public_key: str, api_key: str | None = None
) -> None:
    """The Telnyx public key (already normalised) and, when given, the API key catch-up lists
    texts with. The dealership's Telnyx numbers come from routing's phone_number.changed.v1."""
    await accounts.set_telnyx_key(session, account_id, public_key)
    if api_key is not None:
        await catch_up.set_telnyx_api_key(session, account_id, api_key)
