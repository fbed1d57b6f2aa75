"""The demo seed provisions Demo Motors through each service's own use cases (issue 20, item 2)
and can run again without changing anything: checked on the real PostgreSQL, through each
service's own reads."""

from collections.abc import Iterator
from uuid import UUID

import pytest
from sqlalchemy import func, select, text

from devtools import demo
from devtools.seed import seed_demo
from ingest.carrier_account_repository import telnyx_account, twilio_accounts
from ingest.dms_repository import integration_by_secret
from notifier.outbound.credentials import load_carrier_account
from routing.auth.usecases import login
from routing.settings import RoutingSettings
from routing.tables import account_phone_numbers, accounts, platform_audit, team_members, users
from shared.db.engine import create_engine, create_session_factory
from shared.settings import ServiceSettings
from shared.testing.infrastructure import fresh_database
from tests.conftest import _migrated_and_seeded


@pytest.fixture
def seeded_alone(infrastructure: None) -> Iterator[str]:
    """A database of this test's own: the suite's shared one gains demo users, numbers and
    integrations from other tests, which would say nothing about the seed."""
    with fresh_database("sbseed", _migrated_and_seeded) as url:
        yield url


async def _state(sessions) -> dict:
    async with sessions() as session:

        async def count(table, *where) -> int:
            return await session.scalar(select(func.count()).select_from(table).where(*where))

        return {
            "accounts": await count(accounts, accounts.c.id == demo.ACCOUNT_ID),
            "users": sorted(
                (row.id, row.role)
                for row in await session.execute(
                    select(users.c.id, users.c.role).where(users.c.account_id == demo.ACCOUNT_ID)
                )
            ),
            "numbers": sorted(
                await session.scalars(
                    select(account_phone_numbers.c.e164).where(
                        account_phone_numbers.c.account_id == demo.ACCOUNT_ID
                    )
                )
            ),
            "team": sorted(
                await session.scalars(
                    select(team_members.c.user_id).where(team_members.c.team_id == demo.TEAM_ID)
                )
            ),
            "created": await count(
                platform_audit,
                platform_audit.c.account_id == demo.ACCOUNT_ID,
                platform_audit.c.action == "dealership.create",
            ),
            "integrations": await session.scalar(
                text("SELECT count(*) FROM ingest.dms_integrations WHERE account_id = :a"),
                {"a": demo.ACCOUNT_ID},
            ),
        }


async def test_demo_motors_is_provisioned_by_each_service_and_seeding_again_changes_nothing(seeded_alone):
    database_url = seeded_alone
    engine = create_engine(ServiceSettings(database_url=database_url))
    sessions = create_session_factory(engine)
    try:
        first = await _state(sessions)
        assert first["accounts"] == 1 and first["created"] == 1 and first["integrations"] == 1
        assert first["users"] == sorted([(demo.ADMIN_ID, "admin"), (demo.AGENT_ID, "agent")])
        assert first["numbers"] == sorted([demo.DEALERSHIP_NUMBER, demo.TELNYX_NUMBER])
        assert first["team"] == [demo.AGENT_ID]

        await seed_demo(database_url)
        assert await _state(sessions) == first

        async with sessions() as session:
            # routing: the demo password was set by accepting the invitation.
            signed_in = await login(session, RoutingSettings(), demo.ADMIN_EMAIL, demo.PASSWORD)
            assert (signed_in.user_id, signed_in.account_id) == (demo.ADMIN_ID, demo.ACCOUNT_ID)
            status = await session.scalar(select(accounts.c.status).where(accounts.c.id == demo.ACCOUNT_ID))
            assert status == "active"
            # ingest: webhook credentials, the Telnyx number from routing's announcement.
            [twilio] = await twilio_accounts(session, demo.ACCOUNT_ID)
            assert twilio.account_sid == demo.TWILIO_ACCOUNT_SID
            telnyx = await telnyx_account(session, demo.ACCOUNT_ID)
            assert telnyx is not None and demo.TELNYX_NUMBER in telnyx.numbers
            # notifier: the sending credentials.
            sending = await load_carrier_account(session, demo.ACCOUNT_ID, "twilio")
            assert sending is not None and sending.account_sid == demo.TWILIO_ACCOUNT_SID
        # ingest: the documented demo DMS secret authenticates Demo Motors' integration.
        integration = await integration_by_secret(sessions, demo.DMS_INTEGRATION_SECRET)
        assert integration is not None and UUID(str(integration.account_id)) == demo.ACCOUNT_ID
    finally:
        await engine.dispose()
