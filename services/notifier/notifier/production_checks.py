"""In production notifier refuses to start while a carrier sending credential of its tables is
one of the demo secrets published in the README (a database seeded with `devtools.seed`)."""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.production import DEMO_SECRETS, refuse


async def refuse_demo_credentials(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        carriers = (
            await session.execute(
                text("SELECT DISTINCT carrier FROM notifier.carrier_accounts WHERE secret = ANY(:secrets)"),
                {"secrets": sorted(DEMO_SECRETS)},
            )
        ).scalars()
        refuse(f"a {carrier} sending credential in the database is a demo secret" for carrier in carriers)
