"""The bell in the top bar: the unread count (also in the tab title), the panel of the latest
notifications linking to their conversations, marking one and all read."""

import re

import httpx
from playwright.sync_api import Page, expect

from devtools import demo
from tests.browser.conftest import System, axe_violations, sign_in
from tests.browser.inbox_helpers import assign, eventually, new_conversation


def unread_of(system: System, email: str) -> int:
    token = system.token(email)
    answer = httpx.get(
        f"{system.services['notifier'].url}/api/v1/notifications/unread-count",
        headers={"authorization": f"Bearer {token}"},
        timeout=10,
    )
    answer.raise_for_status()
    return answer.json()["unread"]


def test_the_bell_counts_lists_opens_and_marks_read(page: Page, system: System, problems) -> None:
    before = unread_of(system, demo.AGENT_EMAIL)
    _, first = new_conversation(system)
    _, second = new_conversation(system)
    assign(system, [first["id"]], user_id=demo.AGENT_ID, note="Call back <b>today</b>")
    assign(system, [second["id"]], user_id=demo.AGENT_ID)
    eventually(lambda: unread_of(system, demo.AGENT_EMAIL) >= before + 2, timeout=30)
    unread = unread_of(system, demo.AGENT_EMAIL)

    sign_in(page, demo.AGENT_EMAIL)
    bell = page.get_by_role("button", name=re.compile(r"^Notifications"))
    expect(bell).to_have_accessible_name(f"Notifications {unread} unread")
    expect(page).to_have_title(re.compile(rf"^\({unread}\) Conversations · Demo Motors$"))

    bell.click()
    expect(bell).to_have_attribute("aria-expanded", "true")
    panel = page.get_by_role("region", name="Notifications")
    newest = panel.get_by_role("listitem").first
    expect(newest).to_contain_text("Alex Admin assigned a conversation to you")
    note_item = panel.get_by_role("listitem").filter(has_text="Call back <b>today</b>")
    expect(note_item).to_be_visible()  # the note as text, not markup
    expect(note_item.locator("b")).to_have_count(0)
    assert axe_violations(page) == []

    newest.get_by_role("button", name=re.compile(r"^Mark read")).click()
    expect(bell).to_have_accessible_name(f"Notifications {unread - 1} unread")
    expect(page).to_have_title(re.compile(rf"^\({unread - 1}\) "))

    panel.get_by_role("button", name="Mark all read").click()
    expect(bell).to_have_accessible_name("Notifications")
    expect(page).to_have_title("Conversations · Demo Motors")
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(bell).to_be_focused()

    bell.click()
    panel.get_by_role("link").filter(has_text="Call back").first.click()
    expect(page).to_have_url(re.compile(rf"/conversations/{first['id']}"))


def test_the_bell_partial_has_a_stable_address(page: Page, system: System) -> None:
    sign_in(page)
    answer = page.request.get("/notifications/bell")
    assert answer.status == 200
    assert 'id="bell"' in answer.text() and "data-unread=" in answer.text()
