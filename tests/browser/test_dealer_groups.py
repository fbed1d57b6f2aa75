"""Dealer groups in Chromium: a person who works at two dealerships signs in once, sees one
dealership's conversations, switches in the top bar and sees the other's only."""

import asyncio
import secrets
from datetime import UTC, datetime
from uuid import uuid4

from playwright.sync_api import Page, expect

from devtools import demo
from routing.messaging.usecases.inbound import record_inbound_message
from routing.seed import seed_account
from shared.contracts.carrier import CarrierInbound
from shared.db.engine import create_engine, create_session_factory
from shared.settings import ServiceSettings
from tests.browser.conftest import System, axe_violations, in_thread, screenshot, sign_in, unique_number

PASSWORD = "group passphrase 2026"


async def _group(database_url: str, email: str, second_name: str, customer: str, body: str) -> None:
    """A second dealership of the group, with its own customer's text; the person works at both
    (seeded through routing's own use cases, the way an operator and the admins would)."""
    engine = create_engine(ServiceSettings(database_url=database_url))
    sessions = create_session_factory(engine)
    second, number = uuid4(), f"+1438{secrets.randbelow(10**7):07d}"
    try:
        async with sessions.begin() as session:
            await seed_account(
                session,
                account_id=second,
                name=second_name,
                phone=(uuid4(), number, "twilio"),
                staff=[(uuid4(), email, "Gabrielle Group", "admin", PASSWORD)],
            )
        async with sessions.begin() as session:
            await seed_account(
                session,
                account_id=demo.ACCOUNT_ID,
                name=demo.ACCOUNT_NAME,
                phone=(uuid4(), demo.DEALERSHIP_NUMBER, "twilio"),
                staff=[(uuid4(), email, "Gabrielle Group", "agent", PASSWORD)],
            )
        async with sessions.begin() as session:
            event = CarrierInbound(
                account_id=second,
                carrier="twilio",
                carrier_message_id=f"SM{uuid4().hex}",
                from_number=customer,
                to_number=number,
                body=body,
                received_at=datetime.now(UTC),
            )
            await record_inbound_message(session, event, "US")
    finally:
        await engine.dispose()


def test_a_person_of_two_dealerships_switches_and_sees_each_ones_conversations_only(
    page: Page, system: System, problems
) -> None:
    tag = secrets.token_hex(3)
    email, second_name = f"group.{tag}@dealer.test", f"Laval Autos {tag}"
    demo_text, second_text = f"Demo oil change {tag}", f"Laval tires {tag}"
    system.text_in(unique_number(), demo_text)
    database_url = system.services["routing"].env["DATABASE_URL"]
    in_thread(asyncio.run, _group(database_url, email, second_name, unique_number(), second_text))

    sign_in(page, email, PASSWORD)
    switcher = page.get_by_label("Dealership", exact=True)
    expect(switcher).to_be_visible()
    current = page.locator(".topbar .account").inner_text()
    assert current in (demo.ACCOUNT_NAME, second_name)
    other = second_name if current == demo.ACCOUNT_NAME else demo.ACCOUNT_NAME
    rows = page.locator("#main")
    # (shown, not shown) in each dealership's list.
    expected = {demo.ACCOUNT_NAME: (demo_text, second_text), second_name: (second_text, demo_text)}

    shown, hidden = expected[current]
    page.goto("/conversations?view=all")
    expect(rows.get_by_text(shown)).to_be_visible(timeout=15_000)
    expect(rows.get_by_text(hidden)).to_have_count(0)
    assert axe_violations(page) == []
    screenshot(page, "dealership-switcher")

    switcher.select_option(label=other)
    page.get_by_role("button", name="Switch").click()
    expect(page.locator(".topbar .account")).to_have_text(other)
    expect(page).to_have_url(f"{system.web}/conversations")
    shown, hidden = expected[other]
    page.goto("/conversations?view=all")
    expect(page.locator(".topbar .account")).to_have_text(other)
    expect(rows.get_by_text(shown)).to_be_visible(timeout=15_000)
    expect(rows.get_by_text(hidden)).to_have_count(0)

    # Someone of one dealership has no switcher.
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, demo.AGENT_EMAIL)
    expect(page.get_by_label("Dealership", exact=True)).to_have_count(0)
