"""My profile (/profile) in Chromium: language, time zone and e-mail notification choices are
the person's own (routing's /me, notifier's preferences); French chosen there makes the inbox
French on the next page, and a time zone shows every time accordingly."""

import re

from playwright.sync_api import Page, expect

from devtools import demo
from tests.browser.conftest import System, axe_violations, screenshot, sign_in
from tests.browser.inbox_helpers import new_conversation


def reset(system: System) -> None:
    system.api("PATCH", "/api/v1/me", email=demo.AGENT_EMAIL, json={"language": None, "time_zone": None})


def test_language_and_time_zone_follow_the_person(page: Page, system: System, problems) -> None:
    reset(system)
    _number, conversation = new_conversation(system, "What time is it there?")
    try:
        sign_in(page, email=demo.AGENT_EMAIL, then=f"/conversations/{conversation['id']}")
        first_time = page.locator("#conversation-pane time").first
        expect(first_time).to_be_visible()
        # The top bar's name opens My profile.
        page.locator(".topbar a.me").click()
        page.wait_for_url("**/profile")
        expect(page.get_by_role("heading", level=1)).to_have_text("My profile")
        assert axe_violations(page) == []

        # Two zones eleven hours apart: the same message shows another hour.
        page.get_by_label("Time zone").select_option("Pacific/Honolulu")
        page.get_by_role("checkbox", name="A conversation is assigned to me").check()
        page.get_by_role("button", name="Save").click()
        page.wait_for_url("**/profile?saved=true")
        expect(page.get_by_role("status")).to_have_text("Your profile was saved.")
        expect(page.get_by_label("Time zone")).to_have_value("Pacific/Honolulu")
        expect(page.get_by_role("checkbox", name="A conversation is assigned to me")).to_be_checked()
        screenshot(page, "profile")
        page.goto(f"/conversations/{conversation['id']}")
        honolulu = page.locator("#conversation-pane time[title]").first.get_attribute("title") or ""
        page.goto("/profile")
        page.get_by_label("Time zone").select_option("Europe/Paris")
        page.get_by_role("button", name="Save").click()
        page.goto(f"/conversations/{conversation['id']}")
        paris = page.locator("#conversation-pane time[title]").first.get_attribute("title") or ""
        assert honolulu != paris, (honolulu, paris)
        # Paris is 11 hours ahead of Honolulu: the minutes agree, the hours do not.
        assert re.search(r":(\d\d)", honolulu).group(1) == re.search(r":(\d\d)", paris).group(1)
        me = system.api("GET", "/api/v1/me", email=demo.AGENT_EMAIL).json()
        assert me["time_zone"] == "Europe/Paris"

        # French in the profile: the inbox is French on the next page, whatever the browser asks.
        page.goto("/profile")
        page.get_by_label("Language").select_option("fr_CA")
        page.get_by_role("button", name="Save").click()
        page.wait_for_url("**/profile?saved=true")
        expect(page.get_by_role("heading", level=1)).to_have_text("Mon profil")
        page.context.clear_cookies(name="sb_lang")
        page.goto("/conversations")
        expect(page.get_by_role("navigation", name="Sections")).to_contain_text("Réponses enregistrées")
        assert system.api("GET", "/api/v1/me", email=demo.AGENT_EMAIL).json()["language"] == "fr_CA"

        # The top bar's switch sets the profile too.
        page.locator(".language-switch").get_by_role("button", name="English").click()
        expect(page.get_by_role("navigation", name="Sections")).to_contain_text("Saved replies")
        assert system.api("GET", "/api/v1/me", email=demo.AGENT_EMAIL).json()["language"] == "en"

        # A value not in the lists is refused beside its field, the other choices kept.
        page.goto("/profile")
        page.evaluate(
            "() => { const o = document.createElement('option'); o.value = 'Mars/Olympus'; o.text = 'Mars';"
            " document.getElementById('profile-time-zone').append(o); }"
        )
        page.get_by_label("Time zone").select_option("Mars/Olympus")
        page.get_by_label("Language").select_option("fr_CA")
        page.get_by_role("button", name="Save").click()
        expect(page.locator("#time-zone-error")).to_have_text("Choose a time zone from the list.")
        expect(page.get_by_label("Language")).to_have_value("fr_CA")
        assert system.api("GET", "/api/v1/me", email=demo.AGENT_EMAIL).json()["language"] == "en"

        page.set_viewport_size({"width": 390, "height": 844})
        page.goto("/profile")
        assert page.evaluate("document.documentElement.scrollWidth <= 390")
        expect(page.locator(".topbar a.me")).to_be_visible()
        assert axe_violations(page) == []
    finally:
        reset(system)
