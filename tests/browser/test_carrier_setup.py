"""Carrier setup in one form, in Chromium: an agent is refused; an admin enters the Twilio or
Telnyx credentials once, sees what is set (masked) as both halves of Switchboard report it, and
tests the connection against the carrier simulator. The demo's own credentials are entered, so
the other browser tests keep receiving and sending."""

import re

from playwright.sync_api import Page, expect

from devtools import demo
from tests.browser.conftest import System, axe_violations, screenshot, sign_in


def settled(page: Page) -> None:
    """The save's answer swaps the status section (with the test button) out of band: a click
    while it is being swapped was lost once in CI, under load."""
    page.wait_for_function("() => !document.querySelector('.htmx-swapping, .htmx-settling, .htmx-request')")


def test_agents_are_refused(page: Page, system: System) -> None:
    sign_in(page, demo.AGENT_EMAIL)
    response = page.goto("/settings/carrier")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="For administrators only")).to_be_visible()


def test_twilio_entered_once_shown_masked_and_tested(page: Page, system: System, problems) -> None:
    sign_in(page)
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Carrier setup").click()
    expect(page).to_have_url(re.compile(r"/settings/carrier"))
    page.get_by_role("link", name="Twilio").click()

    # A malformed SID: refused beside the field, the SID kept, and the token too (it stays in
    # the browser's field: the server never writes it back into the page).
    page.get_by_label("Account SID").fill("AC123")
    page.get_by_label("Auth token").fill(demo.TWILIO_AUTH_TOKEN)
    page.get_by_role("button", name="Save the credentials").click()
    expect(page.locator("#account-sid-error")).to_have_text(re.compile("AC followed by 32"))
    expect(page.get_by_label("Account SID")).to_have_value("AC123")
    expect(page.get_by_label("Auth token")).to_have_value(demo.TWILIO_AUTH_TOKEN)
    assert demo.TWILIO_AUTH_TOKEN not in page.content()

    page.get_by_label("Account SID").fill(demo.TWILIO_ACCOUNT_SID)
    page.get_by_role("button", name="Save the credentials").click()
    status = page.get_by_role("region", name="What is set for Twilio")
    expect(status).to_contain_text("Saved: Switchboard receives and sends texts with these credentials.")
    hint = f"••••{demo.TWILIO_AUTH_TOKEN[-4:]}"
    expect(status).to_contain_text(demo.TWILIO_ACCOUNT_SID)
    expect(status.locator("dd").filter(has_text=hint)).to_have_count(2)  # receiving and sending
    assert demo.TWILIO_AUTH_TOKEN not in page.content()

    settled(page)
    page.get_by_role("button", name="Test the connection").click()
    expect(status).to_contain_text("Connected: Twilio accepted the credentials.", timeout=15_000)
    assert axe_violations(page) == []
    screenshot(page, "carrier-setup")


def test_telnyx_entered_once_and_tested(page: Page, system: System, problems) -> None:
    sign_in(page, then="/settings/carrier?carrier=telnyx")
    page.get_by_label("API key").fill(demo.TELNYX_API_KEY)
    page.get_by_label("Webhook public key").fill("not a key")
    page.get_by_role("button", name="Save the credentials").click()
    expect(page.locator("#public-key-error")).to_have_text(re.compile("not a Telnyx public key"))
    expect(page.get_by_label("Webhook public key")).to_have_value("not a key")
    expect(page.get_by_label("API key")).to_have_value(demo.TELNYX_API_KEY)

    page.get_by_label("Webhook public key").fill(demo.TELNYX_PUBLIC_KEY)
    page.get_by_role("button", name="Save the credentials").click()
    status = page.get_by_role("region", name="What is set for Telnyx")
    expect(status).to_contain_text(demo.TELNYX_PUBLIC_KEY)
    expect(status.locator("dd").filter(has_text=f"••••{demo.TELNYX_API_KEY[-4:]}")).to_have_count(2)
    settled(page)
    page.get_by_role("button", name="Test the connection").click()
    expect(status).to_contain_text("Connected: Telnyx accepted the credentials.", timeout=15_000)
    assert demo.TELNYX_API_KEY not in page.content()
