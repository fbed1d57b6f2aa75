"""Live, with no reload: the page's one event stream (web's /live, relayed from notifier)."""

import re

import httpx
from playwright.sync_api import Browser, Page, expect

from devtools import demo
from tests.browser.conftest import System, new_signed_in_page, screenshot, sign_in, unique_number
from tests.browser.test_conversation import texted


def first_row(page: Page):
    return page.locator("#rows .row").first


def test_a_new_text_moves_its_row_to_the_top_and_updates_the_counts(
    page: Page, system: System, problems
) -> None:
    sign_in(page, then="/conversations?view=all&status=open")
    older, newer = unique_number(), unique_number()
    system.text_in(older, "First customer")
    expect(first_row(page)).to_contain_text(older)
    system.text_in(newer, "Second customer")
    expect(first_row(page)).to_contain_text(newer)
    # The numbers follow the rows by a second request (a live refresh keeps the old ones until then).
    expect(page.locator("#list-counts[data-loaded]")).to_be_attached()
    expect(page.locator("#list-total")).not_to_have_text("")
    total_before = page.locator("#list-total").inner_text()

    system.text_in(older, "First customer again")
    expect(first_row(page)).to_contain_text(older)
    # A new text from a known customer does not add a conversation; the list shows it first.
    expect(page.locator("#list-total")).to_have_text(total_before)
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1


def test_the_page_catches_up_after_a_dropped_connection(page: Page, system: System) -> None:
    sign_in(page, then="/conversations?view=all&status=open")
    page.wait_for_timeout(500)  # the stream is open
    # The notifier behind the stream goes away (a deploy) while a customer texts in: the
    # stream ends, the browser reconnects with its last event id and gets what it missed.
    notifier = system.services["notifier"]
    notifier.stop()
    missed = unique_number()
    system.text_in(missed, "Sent while the stream was down")
    notifier.start()
    notifier.wait_ready()
    expect(page.locator("#rows")).to_contain_text(missed, timeout=30_000)
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1


def test_an_ended_session_sends_the_open_page_to_sign_in(page: Page, system: System) -> None:
    sign_in(page, then="/conversations?view=all")
    page.wait_for_timeout(500)
    page.context.add_cookies([{"name": "sb_session", "value": "no.longer.valid", "url": system.web}])
    # The stream drops (a deploy of web itself); its reconnection is refused with 401.
    system.restart("web")
    expect(page).to_have_url(f"{system.web}/signin?next=%2Fconversations%3Fview%3Dall", timeout=30_000)


def test_the_relay_resumes_from_the_last_event_id(system: System) -> None:
    """What the browser's EventSource does on reconnecting, through web with the cookie."""
    with httpx.Client(base_url=system.web, timeout=10) as client:
        client.get("/signin")
        answer = client.post(
            "/signin",
            data={
                "email": demo.ADMIN_EMAIL,
                "password": demo.PASSWORD,
                "csrftoken": client.cookies["csrftoken"],
            },
        )
        assert answer.status_code in (200, 303)
        with client.stream("GET", "/live") as stream:
            ready_id = next(line for line in stream.iter_lines() if line.startswith("id:"))[3:].strip()
        number = unique_number()
        system.text_in(number, "While no page was open")
        seen: list[str] = []
        with client.stream("GET", "/live", headers={"last-event-id": ready_id}) as stream:
            for line in stream.iter_lines():
                seen.append(line)
                if line.startswith("event: conversation-"):
                    break
        assert "event: inbox" in seen
        assert any(line.startswith("id:") and line[3:].strip() != ready_id for line in seen)


def test_two_people_in_one_conversation_see_each_other_live(
    page: Page, browser: Browser, system: System, problems
) -> None:
    number, conversation_id = texted(system, "Can someone call me back?")
    sign_in(page, then=f"/conversations/{conversation_id}?view=all")
    colleague = new_signed_in_page(browser, system, demo.AGENT_EMAIL)
    colleague.goto(f"/conversations/{conversation_id}?view=all")
    page.wait_for_timeout(500)  # both streams are open

    # The colleague types: the admin sees who is replying, and it fades when they stop.
    colleague.locator("#composer-body").press_sequentially("On it, calling you", delay=30)
    presence = page.locator("#conversation-pane .presence")
    expect(presence).to_contain_text("Sam Agent is replying")
    screenshot(page, "is-replying")

    # The customer texts again: it appears in both open conversations without a reload.
    system.text_in(number, "Also, is the loaner available?")
    for someone in (page, colleague):
        expect(someone.locator("#timeline")).to_contain_text("Also, is the loaner available?")

    # The colleague sends: the text that arrived meanwhile is pointed out first, then the reply
    # goes out and the admin sees it under the colleague's name, then delivered.
    colleague.get_by_role("button", name="Send", exact=True).click()
    expect(colleague.locator("#conversation-pane").get_by_role("alert")).to_contain_text(
        "A new message arrived"
    )
    colleague.get_by_role("button", name="Send", exact=True).click()
    sent = page.locator("#timeline .message.outbound", has_text="On it, calling you")
    expect(sent).to_contain_text("Sam Agent")
    expect(sent.locator(".delivery")).to_have_text("Delivered", timeout=15_000)
    expect(presence).to_have_text("", timeout=10_000)
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
    colleague.context.close()


def test_the_bell_and_the_tab_title_count_a_new_assignment_live(browser: Browser, system: System) -> None:
    _number, conversation_id = texted(system, "Who handles my warranty claim?")
    agent = new_signed_in_page(browser, system, demo.AGENT_EMAIL)
    bell = agent.locator("#bell")
    expect(bell).to_have_attribute("data-unread", re.compile(r"\d+"))
    before = int(bell.get_attribute("data-unread"))
    agent.wait_for_timeout(500)  # the stream is open

    body = {
        "assignee": {"user_id": str(demo.AGENT_ID)},
        "conversation_ids": [conversation_id],
        "note": "Yours",
    }
    system.api("POST", "/api/v1/conversations/assign", json=body).raise_for_status()

    expect(bell).to_have_attribute("data-unread", str(before + 1))
    expect(agent).to_have_title(re.compile(rf"^\({before + 1}\) "))
    # The agent's own list ("mine") shows the conversation assigned to them, without a reload.
    expect(agent.locator("#rows")).to_contain_text("Who handles my warranty claim?")
    assert agent.evaluate("performance.getEntriesByType('navigation').length") == 1
    agent.context.close()


def test_a_late_live_refresh_does_not_replace_a_list_asked_for_since(page: Page, system: System) -> None:
    sign_in(page, then="/conversations?view=all&status=open")
    page.wait_for_timeout(500)  # the stream is open
    # The live refresh a new text causes is held on its way, as on a busy server...
    held = []
    is_live_refresh = lambda url: "/conversations?" in url and "shown=" in url  # noqa: E731
    page.route(is_live_refresh, lambda route: held.append(route) if len(held) < 1 else route.continue_())
    number = unique_number()
    system.text_in(number, "Arrived just before the click")
    for _ in range(150):
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the new text caused no live refresh"
    # ...while the person asks for the closed conversations.
    page.get_by_role("link", name=re.compile(r"^Closed")).click()
    expect(page).to_have_url(re.compile(r"status=closed"))
    expect(page.locator("#rows")).not_to_contain_text(number)
    # The open list's refresh answers late: it must not bring the open rows back under Closed.
    with page.expect_response(lambda response: is_live_refresh(response.url)):
        held[0].continue_()
    page.wait_for_timeout(300)  # htmx swaps an answer within its settle delay
    expect(page).to_have_url(re.compile(r"status=closed"))
    expect(page.locator("#rows")).not_to_contain_text(number)
