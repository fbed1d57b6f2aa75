"""Company settings, as an admin sees them in Chromium: automatic closing after 1 to 15 days (off
by default) and Update, the hours after which an unanswered conversation turns orange, the
dealership's numbers added and removed; refusals beside their field with what was typed kept;
agents neither see the menu entry nor get in; French, keyboard and a 390 px phone."""

import re
import secrets

from playwright.sync_api import Browser, Page, expect

from devtools import demo
from tests.browser.conftest import AXE, System, axe_violations, new_signed_in_page, screenshot, sign_in


def account_settings(system: System) -> dict:
    answer = system.api("GET", "/api/v1/account/settings")
    answer.raise_for_status()
    return answer.json()


def test_agents_do_not_see_or_open_the_admin_settings(page: Page, system: System, problems) -> None:
    sign_in(page, demo.AGENT_EMAIL)
    nav = page.get_by_role("navigation", name="Sections")
    for label in ("Company settings", "Teams and users", "Carrier setup"):
        expect(nav.get_by_role("link", name=label)).to_have_count(0)
    for address in ("/settings/company", "/settings/team", "/settings/carrier"):
        response = page.goto(address)
        assert response is not None and response.status == 403, address
        expect(page.get_by_role("heading", name="For administrators only")).to_be_visible()
        expect(page.get_by_text("Only your dealership's administrators can open this page.")).to_be_visible()
    # A form sent by hand is refused as well, and changes nothing.
    before = account_settings(system)
    refused = page.request.post(
        "/settings/company/conversations",
        form={"auto_close": "on", "auto_close_days": "3", "unanswered_hours": "2"},
        headers={"x-csrftoken": page.evaluate("document.body.getAttribute('hx-headers')")[17:-2]},
    )
    assert refused.status == 403 and "x-csrf-refused" not in refused.headers
    assert account_settings(system) == before


def test_automatic_closing_and_the_orange_hours(page: Page, system: System, problems) -> None:
    before = account_settings(system)
    try:
        sign_in(page)
        page.get_by_role("navigation", name="Sections").get_by_role("link", name="Company settings").click()
        expect(page).to_have_url(re.compile(r"/settings/company$"))
        expect(page.get_by_role("heading", name="Company settings", level=1)).to_be_visible()
        off = page.get_by_label("Do not close conversations automatically")
        on = page.get_by_label("Close conversations that have been inactive for a number of days")
        days = page.get_by_label("Days without activity (1 to 15)")
        hours = page.get_by_label(re.compile("Highlight a conversation in orange"))
        if before["auto_close_after_days"] is None:
            expect(off).to_be_checked()  # off by default
        expect(hours).to_have_value(str(before["unanswered_after_hours"]))
        assert axe_violations(page) == []
        screenshot(page, "company-settings")

        # Out of range and not a number: refused beside each field, what was typed kept.
        on.check()
        days.fill("20")
        hours.fill("2.5")
        page.get_by_role("button", name="Update").click()
        expect(page.get_by_text("Nothing was changed: correct the fields marked below.")).to_be_visible()
        expect(page.locator("#unanswered-hours-error")).to_have_text(re.compile("Enter a whole number."))
        expect(days).to_have_value("20")
        expect(hours).to_have_value("2.5")
        expect(on).to_be_checked()
        hours.fill("6")
        page.get_by_role("button", name="Update").click()
        expect(page.locator("#auto-close-days-error")).to_have_text(re.compile("Choose from 1 to 15 days."))
        expect(days).to_have_attribute("aria-invalid", "true")
        expect(hours).to_have_value("6")
        assert account_settings(system) == before
        assert axe_violations(page) == []

        days.fill("5")
        page.get_by_role("button", name="Update").click()
        expect(page.get_by_role("status")).to_have_text("Settings updated.")
        now = account_settings(system)
        assert (now["auto_close_after_days"], now["unanswered_after_hours"]) == (5, 6)
        page.reload()
        expect(on).to_be_checked()
        expect(days).to_have_value("5")

        off.check()
        page.get_by_role("button", name="Update").click()
        expect(page.get_by_role("status")).to_have_text("Settings updated.")
        assert account_settings(system)["auto_close_after_days"] is None
    finally:
        system.api(
            "PATCH",
            "/api/v1/account/settings",
            json={k: before[k] for k in ("auto_close_after_days", "unanswered_after_hours")},
        ).raise_for_status()


def test_the_dealerships_numbers(page: Page, system: System, problems) -> None:
    last = f"{secrets.randbelow(10000):04d}"
    area = secrets.choice(["438", "450", "579"])
    typed = f"({area}) 555-{last}"
    sign_in(page, then="/settings/company")
    numbers = page.get_by_role("region", name="The dealership's numbers")
    expect(numbers).to_contain_text(f"({demo.TELNYX_NUMBER[2:5]}) {demo.TELNYX_NUMBER[5:8]}-")

    number = page.get_by_label("Phone number")
    number.fill("12")
    page.get_by_role("button", name="Add number").click()
    expect(page.locator("#new-number-error")).to_have_text(re.compile("This is not a phone number"))
    expect(number).to_have_value("12")

    number.fill(typed)
    page.get_by_label("Carrier").select_option("telnyx")
    page.get_by_role("button", name="Add number").click()
    expect(page.get_by_role("status")).to_have_text("Number added.")
    item = numbers.get_by_role("listitem").filter(has_text=typed)
    expect(item).to_contain_text("Telnyx")

    # The same number again is refused beside the field.
    number.fill(f"+1{area}555{last}")
    page.get_by_role("button", name="Add number").click()
    expect(page.locator("#new-number-error")).to_have_text(re.compile("already registered"))
    expect(number).to_have_value(f"+1{area}555{last}")

    item.locator("summary").click()
    expect(item).to_contain_text("Its conversations and messages stay.")
    item.get_by_role("button", name=f"Remove {typed}").click()
    expect(page.get_by_role("status")).to_have_text("Number removed.")
    expect(numbers.get_by_role("listitem").filter(has_text=typed)).to_have_count(0)


def test_in_french_by_keyboard_and_on_a_phone(browser: Browser, system: System) -> None:
    page = new_signed_in_page(browser, system, demo.ADMIN_EMAIL)
    page.context.add_cookies([{"name": "sb_lang", "value": "fr_CA", "url": system.web}])
    page.goto("/settings/company")
    expect(page.get_by_role("heading", name="Paramètres de l'entreprise", level=1)).to_be_visible()
    expect(page.get_by_role("button", name="Mettre à jour")).to_be_visible()
    page.get_by_label("Jours sans activité (1 à 15)").fill("99")
    page.get_by_label("Fermer les conversations inactives depuis un certain nombre de jours").check()
    page.get_by_role("button", name="Mettre à jour").click()
    expect(page.locator("#auto-close-days-error")).to_have_text(re.compile("Choisissez de 1 à 15 jours."))
    page.context.close()

    # Every control is reached with Tab alone.
    phone = browser.new_context(base_url=system.web, viewport={"width": 390, "height": 844}, is_mobile=True)
    phone.add_init_script(path=str(AXE))
    page = phone.new_page()
    sign_in(page, then="/settings/company")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    reached = set()
    for _ in range(80):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()"))
        if "Add number" in reached:
            break
    assert {"auto-close-on", "auto-close-days", "unanswered-hours", "Update", "new-number"} <= reached or {
        "auto-close-off",
        "auto-close-days",
        "unanswered-hours",
        "Update",
        "new-number",
    } <= reached, reached
    assert "Add number" in reached
    assert axe_violations(page) == []
    phone.close()
