"""Automations and Campaigns in Chromium: the list of those that reached customers (named as
their systems named them), "View results" with every customer reached, when, and whether the
text arrived (the plain reason when not), a customer's information beside their conversation,
a reply sent from there; French; a phone's width; axe."""

import re
import secrets
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import System, axe_violations, screenshot, sign_in, unique_number


@pytest.fixture(scope="module", autouse=True)
def no_quiet_hours(system: System) -> Iterator[None]:
    """Automations and campaigns wait for the morning at night (notifier's quiet hours): these
    tests see their texts go out whatever the hour."""
    notifier = system.services["notifier"]
    notifier.env.update(QUIET_HOURS_START="0", QUIET_HOURS_END="24")
    system.restart("notifier")
    yield
    for name in ("QUIET_HOURS_START", "QUIET_HOURS_END"):
        notifier.env.pop(name, None)
    system.restart("notifier")


def sent_from(system: System, source: dict, number: str, body: str) -> dict:
    answer = system.api(
        "POST", "/api/v1/outreach", json={"customer_phone": number, "body": body, "source": source}
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def settled(system: System, source: dict, undelivered: int, timeout: float = 20) -> None:
    """Until the carrier simulator's receipts reached routing."""
    deadline = time.monotonic() + timeout
    while True:
        page = system.api(
            "GET", "/api/v1/sources", params={"kind": source["kind"], "id": source["id"]}
        ).json()
        if page["items"] and page["items"][0]["undelivered"] == undelivered:
            return
        assert time.monotonic() < deadline, page
        time.sleep(0.2)


@pytest.fixture
def english_after(system: System) -> Iterator[None]:
    """The language switch sets the person's profile: the next tests read English again."""
    yield
    system.api("PATCH", "/api/v1/me", json={"language": None}).raise_for_status()


def test_automation_results_with_a_failed_text_and_a_reply(page: Page, system: System, problems) -> None:
    automation = {
        "kind": "automation",
        "id": f"auto-{secrets.token_hex(4)}",
        "name": "Service due <i>soon</i>",
        "url": "https://crm.example.test/a/1",
    }
    reached = unique_number()
    failing = unique_number("0003")
    sent_from(system, automation, reached, "Your service is due, book now")
    failed = sent_from(system, automation, failing, "Your service is due, book now")
    settled(system, automation, undelivered=1)

    sign_in(page, then="/automations")
    expect(page.get_by_role("link", name="Automations")).to_have_attribute("aria-current", "page")
    row = page.get_by_role("row").filter(has_text="Service due <i>soon</i>")
    expect(row).to_contain_text("2")
    row.get_by_role("link", name="View results").click()
    expect(page.get_by_role("heading", name="Service due <i>soon</i>", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text("2 customers reached")
    rows = page.locator(".reached-row")
    expect(rows).to_have_count(2)
    bad = page.locator(".reached-row.undelivered")
    expect(bad).to_have_count(1)
    expect(bad).to_contain_text("Not delivered")
    expect(bad.locator(".delivery-reason")).not_to_be_empty()

    # The customer whose text failed: their information and conversation.
    bad.get_by_role("link").click()
    expect(page).to_have_url(re.compile(re.escape(f"conversation={failed['conversation_id']}")))
    card = page.locator(".reached-card")
    expect(card).to_contain_text(failing)
    expect(card).to_contain_text("Not delivered")
    pane = page.locator("#conversation-pane")
    expect(pane.locator(".timeline")).to_contain_text("Your service is due, book now")
    screenshot(page, "automation-results")
    assert axe_violations(page) == []

    # The other customer, and a reply from this screen.
    page.locator(".reached-row").filter(has_not_text="Not delivered").get_by_role("link").click()
    expect(page.locator(".reached-card")).to_contain_text(reached)
    page.locator("#composer-body").fill("Happy to book you in <b>today</b>")
    pane.get_by_role("button", name="Send").click()
    expect(pane.locator(".timeline")).to_contain_text("Happy to book you in <b>today</b>")

    # Unknown sources and conversations not reached by this one are not found.
    for address in (
        f"/automations/nope-{secrets.token_hex(3)}",
        f"/campaigns/{automation['id']}",
        f"/automations/{automation['id']}?conversation=00000000-0000-0000-0000-000000000000",
        f"/automations/{automation['id']}?conversation=nope",
    ):
        answer = page.goto(address)
        assert answer is not None and answer.status == 404, address


def test_campaigns_in_french_on_a_phone(page: Page, system: System, problems, english_after) -> None:
    campaign = {"kind": "campaign", "id": f"camp-{secrets.token_hex(4)}", "name": "Pneus d'hiver 2026"}
    sent_from(system, campaign, unique_number(), "Vos pneus d'hiver vous attendent")
    settled(system, campaign, undelivered=0)
    sign_in(page, then="/campaigns")
    page.get_by_role("button", name="Français (Canada)").click()
    expect(page.get_by_role("heading", name="Campagnes", level=1)).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Pneus d'hiver 2026")
    expect(row.get_by_role("link", name="Voir les résultats")).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, "campaigns")

    page.set_viewport_size({"width": 390, "height": 844})
    row.get_by_role("link", name="Voir les résultats").click()
    expect(page.locator("main")).to_contain_text("1 client joint")
    page.locator(".reached-row a").first.click()
    expect(page.get_by_role("link", name="Retour aux résultats")).to_be_visible()
    expect(page.get_by_role("button", name="Envoyer", exact=True)).to_be_visible()
    # Keyboard: the back link and the composer are reachable by Tab.
    page.locator("#composer-body").focus()
    expect(page.locator("#composer-body")).to_be_focused()
    assert axe_violations(page) == []
