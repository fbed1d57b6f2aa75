"""A suspended dealership in Chromium: the operator suspends it (routing's operator use case, as
`POST /platform/v1/dealerships/{id}/suspend` runs it) while its admin has the inbox open; their
next page sends them to sign-in with a plain message, signing in again says the same, and a
customer's text that arrives meanwhile is there once the dealership resumes."""

import asyncio
import secrets
import time
from datetime import UTC, datetime
from uuid import UUID, uuid4

from playwright.sync_api import Page, expect

from routing.messaging.usecases.inbound import record_inbound_message
from routing.platform.usecases.dealerships import resume_dealership, suspend_dealership
from routing.seed import seed_account
from shared.contracts.carrier import CarrierInbound
from shared.db.engine import create_engine, create_session_factory
from shared.http.operator_auth import Operator
from shared.settings import ServiceSettings
from tests.browser.conftest import System, in_thread, screenshot, sign_in, unique_number

PASSWORD = "suspension passphrase 2026"
OPERATOR = Operator(name="browser-test", fingerprint="local")


async def _in_routing(database_url: str, work) -> None:
    engine = create_engine(ServiceSettings(database_url=database_url))
    try:
        async with create_session_factory(engine).begin() as session:
            await work(session)
    finally:
        await engine.dispose()


def routing_does(system: System, work) -> None:
    in_thread(asyncio.run, _in_routing(system.services["routing"].env["DATABASE_URL"], work))


def test_a_suspended_dealerships_admin_is_sent_to_sign_in_and_texts_show_when_it_resumes(
    page: Page, system: System, problems
) -> None:
    tag = secrets.token_hex(3)
    account, email, number = uuid4(), f"owner.{tag}@dealer.test", f"+1450{secrets.randbelow(10**7):07d}"
    text = f"Still there? {tag}"

    async def dealership(session) -> None:
        await seed_account(
            session,
            account_id=account,
            name=f"Terrebonne Autos {tag}",
            phone=(uuid4(), number, "twilio"),
            staff=[(uuid4(), email, "Olivia Owner", "admin", PASSWORD)],
        )

    routing_does(system, dealership)
    sign_in(page, email, PASSWORD, then="/conversations?view=all")
    expect(page.locator(".topbar .account")).to_have_text(f"Terrebonne Autos {tag}")

    routing_does(
        system, lambda session: suspend_dealership(session, account, OPERATOR, datetime.now(UTC), "unpaid")
    )
    # Their next page (routing's answer about them is trusted a few seconds at most).
    deadline = time.monotonic() + 20
    while "reason=suspended" not in page.url:
        assert time.monotonic() < deadline, page.url
        page.goto("/conversations?view=all")
        time.sleep(0.5)
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("access to Switchboard is suspended")
    screenshot(page, "sign-in-suspended")
    assert "sb_session" not in {cookie["name"] for cookie in page.context.cookies()}

    page.get_by_label("E-mail", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("access to Switchboard is suspended")

    # A customer writes meanwhile: stored as always.
    async def inbound(session) -> None:
        event = CarrierInbound(
            account_id=account,
            carrier="twilio",
            carrier_message_id=f"SM{uuid4().hex}",
            from_number=unique_number(),
            to_number=number,
            body=text,
            received_at=datetime.now(UTC),
        )
        assert isinstance(await record_inbound_message(session, event, "US"), UUID)

    routing_does(system, inbound)
    routing_does(system, lambda session: resume_dealership(session, account, OPERATOR, datetime.now(UTC)))
    # Routing lets them in at once; notifier (the bell) follows dealership.resumed.v1 within seconds.
    deadline = time.monotonic() + 30
    while True:
        sign_in(page, email, PASSWORD, then="/conversations?view=all")
        page.wait_for_timeout(2_000)
        if "/signin" not in page.url:
            break
        assert time.monotonic() < deadline, "still refused after the dealership resumed"
    expect(page.locator("#main").get_by_text(text)).to_be_visible(timeout=15_000)
