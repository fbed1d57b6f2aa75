"""In production ingest refuses to start while a carrier or DMS credential of its tables is one
of the demo secrets published in the README (a database seeded with `devtools.seed`): anyone
could sign webhooks and DMS events for that dealership."""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ingest.dms_repository import integration_by_secret
from shared.production import DEMO_SECRETS, refuse

_DEMO_CARRIER_CREDENTIALS = text(
    "SELECT 'a Twilio auth token' FROM ingest.twilio_accounts WHERE auth_token = ANY(:secrets)"
    " UNION SELECT 'a Telnyx key' FROM ingest.telnyx_accounts"
    "  WHERE public_key = ANY(:secrets) OR api_key = ANY(:secrets)"
)


async def refuse_demo_credentials(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        found = list(
            (await session.execute(_DEMO_CARRIER_CREDENTIALS, {"secrets": sorted(DEMO_SECRETS)})).scalars()
        )
    for secret in sorted(DEMO_SECRETS):
        # Asked the way a DMS request is authenticated, whatever the secrets' storage.
        if await integration_by_secret(sessions, secret) is not None:
            found.append("a DMS integration secret")
    refuse(f"{what} in the database is a demo secret published in the README" for what in found)
