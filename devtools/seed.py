"""Seeds the demo dealership into each service that keeps part of it: `python -m devtools.seed`.
Idempotent; for local use only."""

import asyncio

from devtools import demo
from ingest.dms_repository import save_dms_integration
from ingest.repository import save_telnyx_account, save_twilio_account
from notifier.outbound.credentials import save_carrier_account
from routing.seed import seed_account
from shared.db.engine import create_engine, create_session_factory
from shared.settings import ServiceSettings


async def seed_demo(database_url: str) -> None:
    engine = create_engine(ServiceSettings(database_url=database_url))
    sessions = create_session_factory(engine)
    try:
        async with sessions.begin() as session:
            await seed_account(
                session,
                account_id=demo.ACCOUNT_ID,
                name=demo.ACCOUNT_NAME,
                phone=(demo.NUMBER_ID, demo.DEALERSHIP_NUMBER, "twilio"),
                staff=[
                    (demo.ADMIN_ID, demo.ADMIN_EMAIL, "Alex Admin", "admin", demo.PASSWORD),
                    (demo.AGENT_ID, demo.AGENT_EMAIL, "Sam Agent", "agent", demo.PASSWORD),
                ],
                team=(demo.TEAM_ID, demo.TEAM_NAME, [demo.AGENT_ID]),
            )
            # ingest lists the number's texts through Twilio's API too (catch-up).
            await save_twilio_account(
                session,
                demo.TWILIO_ACCOUNT_SID,
                demo.TWILIO_AUTH_TOKEN,
                demo.ACCOUNT_ID,
                numbers=[demo.DEALERSHIP_NUMBER],
            )
            # The same dealership also receives on a Telnyx number.
            await seed_account(
                session,
                account_id=demo.ACCOUNT_ID,
                name=demo.ACCOUNT_NAME,
                phone=(demo.TELNYX_NUMBER_ID, demo.TELNYX_NUMBER, "telnyx"),
                staff=[],
            )
            await save_telnyx_account(
                session,
                demo.ACCOUNT_ID,
                demo.TELNYX_PUBLIC_KEY,
                [demo.TELNYX_NUMBER],
                api_key=demo.TELNYX_API_KEY,
            )
            await save_dms_integration(
                session,
                demo.DMS_INTEGRATION_ID,
                demo.ACCOUNT_ID,
                demo.DMS_INTEGRATION_NAME,
                demo.DMS_INTEGRATION_SECRET,
            )
            # notifier sends through both carriers with the same dealership's credentials.
            await save_carrier_account(
                session, demo.ACCOUNT_ID, "twilio", demo.TWILIO_AUTH_TOKEN, demo.TWILIO_ACCOUNT_SID
            )
            await save_carrier_account(session, demo.ACCOUNT_ID, "telnyx", demo.TELNYX_API_KEY)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(seed_demo(ServiceSettings().database_url))
    print(f"seeded {demo.ACCOUNT_NAME}: {demo.ADMIN_EMAIL} / {demo.PASSWORD}")
