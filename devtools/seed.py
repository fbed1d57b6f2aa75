"""Seeds the demo dealership: `python -m devtools.seed`. Idempotent; for local use only.

Demo Motors is provisioned the way any dealership is, each service doing its own part through
its own use cases, one transaction per service (nothing here writes a table itself):
- routing: the operator use case creates the dealership and invites its first admin; the admin
  invites the agent; each accepts their invitation with the demo password; the numbers and the
  team through the admin use cases (routing.seed.seed_account).
- ingest: the numbers as routing announces them (`phone_number.changed.v1`, applied by ingest's
  own use case, as its consumer does), the carrier webhook credentials and the DMS integration
  (with the demo's documented secret) through the use cases its admin API runs.
- notifier: the carriers' sending credentials through the use case its admin API runs."""

import asyncio
from uuid import NAMESPACE_URL, uuid5

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from devtools import demo
from ingest.domain.carrier_accounts import normalize_ed25519_public_key
from ingest.usecases.carrier_credentials import set_telnyx_webhook_key, set_twilio_webhook_credentials
from ingest.usecases.dms_integrations import create_integration, list_integrations
from ingest.usecases.phone_numbers import apply_number_change
from notifier.outbound.credentials import set_carrier_account
from routing.seed import seed_account
from routing.settings import RoutingSettings
from shared.contracts.phone_numbers import PhoneNumberChanged
from shared.db.engine import create_engine, create_session_factory
from shared.settings import ServiceSettings

NUMBERS = (
    (demo.NUMBER_ID, demo.DEALERSHIP_NUMBER, "twilio"),
    (demo.TELNYX_NUMBER_ID, demo.TELNYX_NUMBER, "telnyx"),
)


async def seed_routing(sessions: async_sessionmaker[AsyncSession], settings: RoutingSettings) -> None:
    async with sessions.begin() as session:
        for index, number in enumerate(NUMBERS):
            await seed_account(
                session,
                account_id=demo.ACCOUNT_ID,
                name=demo.ACCOUNT_NAME,
                phone=number,
                staff=[
                    (demo.ADMIN_ID, demo.ADMIN_EMAIL, "Alex Admin", "admin", demo.PASSWORD),
                    (demo.AGENT_ID, demo.AGENT_EMAIL, "Sam Agent", "agent", demo.PASSWORD),
                ]
                if index == 0
                else [],
                team=(demo.TEAM_ID, demo.TEAM_NAME, [demo.AGENT_ID]) if index == 0 else None,
                settings=settings,
            )


async def seed_ingest(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        await set_twilio_webhook_credentials(
            session, demo.ACCOUNT_ID, demo.TWILIO_ACCOUNT_SID, demo.TWILIO_AUTH_TOKEN
        )
        await set_telnyx_webhook_key(
            session,
            demo.ACCOUNT_ID,
            normalize_ed25519_public_key(demo.TELNYX_PUBLIC_KEY),
            demo.TELNYX_API_KEY,
        )
        for _, e164, carrier in NUMBERS:
            # What routing announced: the same use case as ingest's consumer, here at once so the
            # demo's numbers work before the relay runs. A fixed event id: applied once.
            added = PhoneNumberChanged(
                event_id=uuid5(NAMESPACE_URL, f"switchboard-demo:{e164}:added"),
                account_id=demo.ACCOUNT_ID,
                e164=e164,
                carrier=carrier,  # type: ignore[arg-type]
                kind="long_code",
                change="added",
            )
            await apply_number_change(session, added)
    integrations = await list_integrations(sessions, demo.ACCOUNT_ID)
    if not any(i.name == demo.DMS_INTEGRATION_NAME and i.revoked_at is None for i in integrations):
        await create_integration(
            sessions, demo.ACCOUNT_ID, demo.DMS_INTEGRATION_NAME, secret=demo.DMS_INTEGRATION_SECRET
        )


async def seed_notifier(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        # notifier sends through both carriers with the same dealership's credentials.
        await set_carrier_account(
            session, demo.ACCOUNT_ID, "twilio", demo.TWILIO_AUTH_TOKEN, demo.TWILIO_ACCOUNT_SID
        )
        await set_carrier_account(session, demo.ACCOUNT_ID, "telnyx", demo.TELNYX_API_KEY)


async def seed_demo(database_url: str) -> None:
    engine = create_engine(ServiceSettings(database_url=database_url))
    sessions = create_session_factory(engine)
    try:
        await seed_routing(sessions, RoutingSettings(database_url=database_url))
        await seed_ingest(sessions)
        await seed_notifier(sessions)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(seed_demo(ServiceSettings().database_url))
    print(f"seeded {demo.ACCOUNT_NAME}: {demo.ADMIN_EMAIL} / {demo.PASSWORD}")
