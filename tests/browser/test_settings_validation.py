"""A refused form on the admin's screens (company settings, teams and users, saved replies,
carrier setup) in Chromium: the server says what is wrong beside the field, the form alone is
swapped by htmx (the page is not reloaded: a mark left on `window` is still there), everything
typed is still in the form, secrets included, and the focus is on the field to correct. Without
script the same form posts and the whole page answers with the same error and what was typed."""

import re
import secrets

from playwright.sync_api import Browser, Page, expect

from devtools import demo
from tests.browser.conftest import AXE, System, axe_violations, sign_in


def mark_page(page: Page) -> None:
    page.evaluate("() => { window.__notReloaded = true; }")


def not_reloaded(page: Page) -> bool:
    return page.evaluate("() => window.__notReloaded === true")


def test_company_settings_refusal_is_swapped_and_keeps_what_was_typed(
    page: Page, system: System, problems
) -> None:
    sign_in(page, then="/settings/company")
    mark_page(page)
    page.get_by_label("Close conversations that have been inactive for a number of days").check()
    days = page.get_by_label("Days without activity (1 to 15)")
    hours = page.get_by_label(re.compile("Highlight a conversation in orange"))
    days.fill("20")
    hours.fill("7")
    page.get_by_role("button", name="Update").click()
    expect(page.locator("#auto-close-days-error")).to_have_text(re.compile("Choose from 1 to 15 days."))
    assert not_reloaded(page)
    expect(days).to_have_value("20")
    expect(hours).to_have_value("7")
    expect(
        page.get_by_label("Close conversations that have been inactive for a number of days")
    ).to_be_checked()
    expect(days).to_have_attribute("aria-invalid", "true")
    expect(days).to_be_focused()
    # The other form on the page was not touched: a number typed there is still there.
    page.get_by_label("Phone number").fill("not a number")
    page.get_by_role("button", name="Add number").click()
    expect(page.locator("#new-number-error")).to_have_text(re.compile("This is not a phone number"))
    expect(page.get_by_label("Phone number")).to_have_value("not a number")
    expect(days).to_have_value("20")
    assert not_reloaded(page)
    assert axe_violations(page) == []


def test_team_refusals_are_swapped_and_keep_what_was_typed(page: Page, system: System, problems) -> None:
    sign_in(page, then="/settings/team")
    mark_page(page)
    invite = page.get_by_role("region", name="Invite a user")
    invite.get_by_label("Full name").fill("Robin <b>Typed</b>")
    invite.get_by_label("E-mail").fill("robin-at-nowhere")
    invite.get_by_label("Role").select_option("admin")
    invite.get_by_role("button", name="Send invitation").click()
    expect(page.locator("#invite-email-error")).to_be_visible()
    assert not_reloaded(page)
    expect(invite.get_by_label("Full name")).to_have_value("Robin <b>Typed</b>")
    expect(invite.get_by_label("E-mail")).to_have_value("robin-at-nowhere")
    expect(invite.get_by_label("Role")).to_have_value("admin")
    expect(invite.get_by_label("E-mail")).to_be_focused()

    # A team name already taken: refused beside the name, the name kept.
    teams = page.get_by_role("region", name="Teams", exact=True)
    teams.get_by_label("Team name").last.fill("Service")
    teams.get_by_role("button", name="Create team").click()
    expect(page.locator("#new-team-name-error")).to_have_text(
        re.compile("A team with this name already exists.")
    )
    expect(teams.get_by_label("Team name").last).to_have_value("Service")
    # What was typed in the other section is still there.
    expect(invite.get_by_label("Full name")).to_have_value("Robin <b>Typed</b>")
    assert not_reloaded(page)

    # Done right: the section says so, the new team is listed, and offered in the invitation.
    name = f"Night shift {secrets.token_hex(2)}"
    teams.get_by_label("Team name").last.fill(name)
    teams.get_by_role("button", name="Create team").click()
    expect(teams.get_by_role("status")).to_have_text("Team created.")
    expect(teams.get_by_role("heading", name=name)).to_be_visible()
    expect(page.get_by_role("region", name="Invite a user").get_by_label(name)).to_be_visible()
    assert not_reloaded(page)
    assert axe_violations(page) == []


def test_saved_reply_refusal_is_swapped_and_keeps_what_was_typed(
    page: Page, system: System, problems
) -> None:
    sign_in(page, then="/saved-replies")
    mark_page(page)
    name = f"Broken {secrets.token_hex(2)}"
    page.get_by_label("Name").fill(name)
    page.get_by_label("Text", exact=True).fill("Hi {{ customer.age }}, see you")
    page.get_by_role("button", name="Create").click()
    expect(page.locator("#body-error")).to_contain_text("unknown placeholder 'customer.age'")
    assert not_reloaded(page)
    expect(page.get_by_label("Name")).to_have_value(name)
    expect(page.get_by_label("Text", exact=True)).to_have_value("Hi {{ customer.age }}, see you")
    expect(page.get_by_label("Text", exact=True)).to_be_focused()

    page.get_by_label("Text", exact=True).fill("Hi {{ customer.first_name }}, see you")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("status")).to_have_text("The saved reply was created.")
    expect(page.locator("#replies")).to_contain_text(name)
    expect(page.get_by_label("Name")).to_have_value("")
    assert not_reloaded(page)
    assert axe_violations(page) == []


def test_carrier_refusal_keeps_the_secret_typed_without_sending_it_back(
    page: Page, system: System, problems
) -> None:
    sign_in(page, then="/settings/carrier?carrier=telnyx")
    mark_page(page)
    page.get_by_label("API key").fill(demo.TELNYX_API_KEY)
    page.get_by_label("Messaging profile id (optional)").fill("not-a-profile")
    page.get_by_label("Webhook public key").fill("not a key")
    page.get_by_role("button", name="Save the credentials").click()
    expect(page.locator("#public-key-error")).to_have_text(re.compile("not a Telnyx public key"))
    assert not_reloaded(page)
    expect(page.get_by_label("Webhook public key")).to_have_value("not a key")
    expect(page.get_by_label("Messaging profile id (optional)")).to_have_value("not-a-profile")
    # The secret stays in the browser's field; the server never wrote it into the page.
    expect(page.get_by_label("API key")).to_have_value(demo.TELNYX_API_KEY)
    assert demo.TELNYX_API_KEY not in page.content()
    expect(page.get_by_label("Webhook public key")).to_be_focused()
    expect(page.get_by_text("secret fields are cleared")).to_have_count(0)

    # Corrected: saved, at ingest with the API key for catch-up and at notifier for sending.
    page.get_by_label("Messaging profile id (optional)").fill("")
    page.get_by_label("Webhook public key").fill(demo.TELNYX_PUBLIC_KEY)
    page.get_by_role("button", name="Save the credentials").click()
    status = page.get_by_role("region", name="What is set for Telnyx")
    expect(status).to_contain_text("Saved: Switchboard receives and sends texts with these credentials.")
    hint = f"••••{demo.TELNYX_API_KEY[-4:]}"
    expect(status.locator("dd").filter(has_text=hint)).to_have_count(2)  # catch-up and sending
    expect(page.get_by_label("API key")).to_have_value("")  # saved: the field is empty again
    assert not_reloaded(page)
    assert axe_violations(page) == []


def test_without_script_the_forms_still_work(browser: Browser, system: System) -> None:
    context = browser.new_context(
        base_url=system.web, java_script_enabled=False, viewport={"width": 1280, "height": 800}
    )
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    try:
        sign_in(page, then="/settings/company")
        page.get_by_label("Close conversations that have been inactive for a number of days").check()
        page.get_by_label("Days without activity (1 to 15)").fill("0")
        page.get_by_role("button", name="Update").click()
        expect(page.locator("#auto-close-days-error")).to_have_text(re.compile("Choose from 1 to 15 days."))
        expect(page.get_by_label("Days without activity (1 to 15)")).to_have_value("0")

        page.goto("/settings/team")
        page.get_by_label("Full name").fill("No Script")
        page.get_by_role("button", name="Send invitation").click()
        expect(page.locator("#invite-email-error")).to_have_text(re.compile("This is required."))
        expect(page.get_by_label("Full name")).to_have_value("No Script")

        page.goto("/saved-replies")
        page.get_by_label("Name").fill("No script reply")
        page.get_by_role("button", name="Create").click()
        expect(page.locator("#body-error")).to_contain_text("Write the text of the reply.")
        expect(page.get_by_label("Name")).to_have_value("No script reply")

        page.goto("/settings/carrier?carrier=twilio")
        page.get_by_label("Account SID").fill("AC123")
        page.get_by_label("Auth token").fill(demo.TWILIO_AUTH_TOKEN)
        page.get_by_role("button", name="Save the credentials").click()
        expect(page.locator("#account-sid-error")).to_have_text(re.compile("AC followed by 32"))
        expect(page.get_by_label("Account SID")).to_have_value("AC123")
        # Without script a secret cannot be kept without writing it into the page: it is
        # cleared, and the page says so.
        expect(page.get_by_text("secret fields are cleared after an error")).to_be_visible()
        assert demo.TWILIO_AUTH_TOKEN not in page.content()
    finally:
        context.close()
