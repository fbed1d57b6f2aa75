"""The conversation list as staff see it: the view menu (me first, then colleagues, teams,
Unassigned, All) with counts, the status and read filters, the red / orange highlights, the
admin's eye, paging, and bulk assign / close / reopen from the checkboxes."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from devtools import demo
from tests.browser.conftest import System, axe_violations, new_signed_in_page, screenshot, sign_in
from tests.browser.inbox_helpers import (
    assign,
    many_conversations,
    new_conversation,
    new_team,
    routing_offers,
    text_arrived_hours_ago,
    timeline,
)


def row(page: Page, number: str):
    return page.locator("#rows .row").filter(has_text=number)


def count_in(text: str) -> int:
    return int(re.sub(r"\D", "", text) or 0)


def counts_shown(page: Page) -> None:
    """The list's numbers come by a second request once its rows are shown."""
    expect(page.locator("#list-counts[data-loaded]")).to_be_attached()


def test_the_view_menu_lists_me_then_colleagues_teams_unassigned_and_all_with_counts(
    page: Page, system: System, problems
) -> None:
    number, conversation = new_conversation(system)
    assign(system, [conversation["id"]], user_id=demo.ADMIN_ID)
    sign_in(page)

    menu = page.locator("#view-menu")
    expect(menu.locator("summary")).to_contain_text("Alex Admin")
    expect(row(page, number)).to_be_visible()
    counts_shown(page)
    menu.locator("summary").click()
    choices = menu.get_by_role("link")
    names = [re.sub(r"\s+\d[\d\s]*$", "", t.strip()) for t in choices.all_inner_texts()]
    # Me first, then every colleague by name (other tests may have added some), then the teams.
    teams_from = names.index("Team Service")
    colleagues = names[1:teams_from]
    assert names[0] == "Alex Admin" and "Sam Agent" in colleagues, names
    assert colleagues == sorted(colleagues), names
    assert names[-2:] == ["Unassigned", "All"], names
    for text in choices.all_inner_texts():
        assert re.search(r"\d\s*$", text), f"no count beside {text!r}"
    assert axe_violations(page) == []
    page.keyboard.press("Escape")
    expect(choices.first).to_be_hidden()
    screenshot(page, "inbox")

    menu.locator("summary").click()
    choices.filter(has_text="All").last.click()
    expect(page).to_have_url(re.compile(r"view=all"))
    expect(menu.locator("summary")).to_contain_text("All")
    page.get_by_role("link", name=re.compile(r"^Closed")).click()
    expect(page).to_have_url(re.compile(r"status=closed"))
    expect(page.get_by_role("link", name=re.compile(r"^Closed"))).to_have_attribute("aria-current", "true")

    # Read filters combine; each shows its count.
    page.get_by_role("link", name=re.compile(r"^Open")).click()
    expect(page).to_have_url(re.compile(r"status=open"))
    page.get_by_role("checkbox", name=re.compile(r"^Unread")).click()
    expect(page).to_have_url(re.compile(r"read=unread"))
    page.get_by_role("checkbox", name=re.compile(r"^Unanswered")).click()
    expect(page).to_have_url(re.compile(r"read=unread&read=unanswered"))
    expect(page.get_by_role("checkbox", name=re.compile(r"^Unread"))).to_have_attribute(
        "aria-checked", "true"
    )
    expect(page.get_by_role("checkbox", name=re.compile(r"^Unanswered"))).to_have_attribute(
        "aria-checked", "true"
    )
    expect(row(page, number)).to_be_visible()
    page.reload()
    expect(page.get_by_role("checkbox", name=re.compile(r"^Unanswered"))).to_have_attribute(
        "aria-checked", "true"
    )


def test_red_for_my_unread_orange_when_unanswered_too_long_and_the_eye_for_admins_only(
    page: Page, browser: Browser, system: System, problems
) -> None:
    mine_number, mine = new_conversation(system, "Can I come at 3?")
    late_number, late = new_conversation(system, "Still waiting for a price")
    assign(system, [mine["id"]], user_id=demo.ADMIN_ID)
    assign(system, [late["id"]], user_id=demo.AGENT_ID)
    settings = system.api("GET", "/api/v1/account/settings").json()
    # 1 hour is the least routing accepts; the text is made 2 hours old.
    answer = system.api("PATCH", "/api/v1/account/settings", json={"unanswered_after_hours": 1})
    assert answer.status_code == 200, answer.text
    try:
        text_arrived_hours_ago(system, late["id"], 2)
        sign_in(page, then="/conversations?view=all")

        red = row(page, mine_number)
        expect(red).to_have_class(re.compile(r"\bunread-mine\b"))
        expect(red.get_by_role("img", name="Unread, assigned to you")).to_be_visible()
        expect(red).to_contain_text("Can I come at 3?")  # the last message's first words
        # (to_have_css retries: a live refresh may replace the row while it is looked at)
        expect(red).to_have_css("background-color", "rgb(253, 236, 234)")

        orange = row(page, late_number)
        expect(orange).to_have_class(re.compile(r"\boverdue\b"))
        expect(orange.locator(".overdue-badge")).to_have_text("Unanswered")
        expect(orange).to_have_css("background-color", "rgb(255, 241, 220)")
        expect(orange.get_by_role("img", name="Not read yet by the assignee")).to_be_visible()
        assert axe_violations(page) == []

        agent = new_signed_in_page(browser, system, demo.AGENT_EMAIL)
        agent.goto("/conversations?view=all")
        agent_row = row(agent, late_number)
        expect(agent_row).to_have_class(re.compile(r"\bunread-mine\b"))
        expect(agent_row.get_by_role("img", name="Not read yet by the assignee")).to_have_count(0)
        agent.context.close()
    finally:
        system.api(
            "PATCH",
            "/api/v1/account/settings",
            json={"unanswered_after_hours": settings["unanswered_after_hours"]},
        )


def test_a_team_of_55_is_paged_by_50_and_all_that_match_are_assigned_at_once(
    page: Page, system: System, problems
) -> None:
    team = new_team(system)
    conversations = many_conversations(system, 55)
    assign(system, [c["id"] for c in conversations], team_id=team["id"])
    sign_in(page, then=f"/conversations?view=team:{team['id']}")

    rows = page.locator("#rows .row")
    expect(rows).to_have_count(50)
    expect(page.locator("#list-total")).to_have_text("55 conversations")
    page.get_by_role("button", name="Load more").click()
    expect(rows).to_have_count(55)
    expect(page.get_by_role("button", name="Load more")).to_have_count(0)

    page.reload()
    expect(rows).to_have_count(50)
    # The top checkbox ticks the page; only then is "all that match" offered.
    select_page = page.get_by_label("Select all on this page")
    select_page.focus()
    page.keyboard.press("Space")
    expect(select_page).to_be_checked()
    expect(page.locator("[data-selected-count]")).to_have_text("50")
    page.get_by_role("button", name="Select all 55 that match").click()
    expect(page.locator("[data-selected-count]")).to_have_text("55")
    expect(page.get_by_text("All 55 conversations that match")).to_be_visible()
    page.get_by_label("Assign to").select_option(label="Sam Agent")
    page.get_by_role("button", name="Assign", exact=True).click()

    expect(page.get_by_role("status")).to_have_text("55 conversations assigned to Sam Agent.")
    expect(page.locator("#list-total")).to_have_text("0 conversations")
    expect(page.get_by_text("No conversations here.")).to_be_visible()
    last = conversations[-1]["id"]
    assert system.api("GET", f"/api/v1/conversations/{last}").json()["assignee_user_id"] == str(demo.AGENT_ID)


def test_bulk_assign_with_a_note_takes_the_rows_off_my_list(page: Page, system: System, problems) -> None:
    first, second, kept = many_conversations(system, 3, "Tires in stock?")
    assign(system, [first["id"], second["id"], kept["id"]], user_id=demo.ADMIN_ID)
    sign_in(page)
    summary = page.locator("#view-menu summary")
    counts_shown(page)
    mine_before = count_in(summary.locator(".count").inner_text())

    for chosen in (first, second):
        page.get_by_label(f"Select {chosen['customer_phone']}").check()
    bar = page.get_by_role("group", name=re.compile("Selected"))
    expect(bar).to_be_visible()
    expect(page.locator("[data-selected-count]")).to_have_text("2")
    page.get_by_label("Assign to").select_option(label="Sam Agent")
    page.get_by_label("Note (optional)").fill("Sam, <b>these</b> are yours")
    assert axe_violations(page) == []
    screenshot(page, "bulk-assign")
    page.get_by_role("button", name="Assign", exact=True).click()

    expect(page.get_by_role("status")).to_have_text("2 conversations assigned to Sam Agent.")
    expect(row(page, first["customer_phone"])).to_have_count(0)
    expect(row(page, second["customer_phone"])).to_have_count(0)
    expect(row(page, kept["customer_phone"])).to_be_visible()
    expect(summary.locator(".count")).to_have_text(str(mine_before - 2))
    expect(bar).to_be_hidden()

    events = timeline(system, first["id"])
    assigned = [e for e in events if e["kind"] == "assigned"]
    assert assigned[-1]["data"]["assignee_name"] == "Sam Agent"
    assert assigned[-1]["actor_name"] == "Alex Admin"
    notes = [e for e in events if e["kind"] == "note"]
    assert notes and notes[-1]["data"]["body"] == "Sam, <b>these</b> are yours"


def test_bulk_close_then_reopen(page: Page, system: System, problems) -> None:
    if not routing_offers(system, "post", "/api/v1/conversations/close"):
        pytest.skip("routing has no bulk close yet (POST /api/v1/conversations/close)")
    one, two = many_conversations(system, 2, "Thanks, all good")
    assign(system, [one["id"], two["id"]], user_id=demo.ADMIN_ID)
    sign_in(page)
    for chosen in (one, two):
        page.get_by_label(f"Select {chosen['customer_phone']}").check()
    page.get_by_role("button", name="Close", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("2 conversations closed.")
    expect(row(page, one["customer_phone"])).to_have_count(0)

    page.get_by_role("link", name=re.compile(r"^Closed")).click()
    expect(page).to_have_url(re.compile(r"status=closed"))
    page.get_by_label(f"Select {one['customer_phone']}").check()
    page.get_by_role("button", name="Reopen", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("1 conversation reopened.")
    expect(row(page, one["customer_phone"])).to_have_count(0)
    expect(row(page, two["customer_phone"])).to_be_visible()


def test_the_list_in_french(browser: Browser, system: System) -> None:
    number, conversation = new_conversation(system)
    assign(system, [conversation["id"]], user_id=demo.ADMIN_ID)
    page = new_signed_in_page(browser, system, demo.ADMIN_EMAIL)
    page.get_by_role("button", name="Français (Canada)").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr-CA")
    expect(page.get_by_role("link", name=re.compile(r"^Ouvertes"))).to_be_visible()
    expect(page.get_by_role("checkbox", name=re.compile(r"^Non lues"))).to_be_visible()
    expect(page.get_by_label("Tout sélectionner sur cette page")).to_be_visible()
    expect(row(page, number)).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, "inbox-fr")
    page.context.close()
