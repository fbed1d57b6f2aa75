"""Texts sent from the Appointments screen, and from an automation's or a campaign's results,
keep that appointment, automation or campaign as their source: the first one, every reply after
it from the same pane, and replies after the pane was refreshed by one of its own actions (a
note, marking unread). Checked in routing's timeline, which is what the person and the reports
see."""

import secrets
from datetime import datetime, timedelta

from playwright.sync_api import Page, expect

from tests.browser.conftest import System, sign_in, unique_number
from tests.browser.test_appointments import account_zone, booked
from tests.browser.test_sources import no_quiet_hours, sent_from  # noqa: F401 (a fixture)


def sources_of(system: System, conversation_id: str) -> dict[str, dict]:
    """{body: source} of the conversation's texts."""
    items = system.api(
        "GET", f"/api/v1/conversations/{conversation_id}/timeline", params={"limit": 50}
    ).json()["items"]
    return {i["message"]["body"]: i["message"]["source"] for i in items if i.get("message")}


def settled(page: Page) -> None:
    """htmx is done swapping what the last action answered: the next one uses the new form."""
    page.wait_for_function("() => !document.querySelector('.htmx-swapping, .htmx-settling, .htmx-request')")


def reply_and_note(page: Page, replies: list[str]) -> None:
    """A reply, a note (the pane comes back from the Conversations screen's route), a reply after
    marking it unread, each seen in the timeline."""
    pane = page.locator("#conversation-pane")
    timeline = pane.locator(".timeline")
    page.locator("#composer-body").fill(replies[0])
    pane.get_by_role("button", name="Send").click()
    expect(timeline).to_contain_text(replies[0], timeout=15_000)
    settled(page)
    page.get_by_label("Internal note", exact=False).fill("Called them too")
    pane.get_by_role("button", name="Add note").click()
    expect(timeline).to_contain_text("Called them too", timeout=15_000)
    settled(page)
    page.locator("#composer-body").fill(replies[1])
    pane.get_by_role("button", name="Send").click()
    expect(timeline).to_contain_text(replies[1], timeout=15_000)
    settled(page)
    pane.get_by_role("button", name="Mark as unread").click()
    settled(page)
    expect(pane.get_by_role("button", name="Mark as unread")).to_be_visible()
    page.locator("#composer-body").fill(replies[2])
    pane.get_by_role("button", name="Send").click()
    expect(timeline).to_contain_text(replies[2], timeout=15_000)


def test_replies_from_the_appointment_pane_keep_the_appointment(page: Page, system: System, problems) -> None:
    zone = account_zone(system)
    day = (datetime.now(zone) + timedelta(days=700 + secrets.randbelow(300))).replace(
        hour=11, minute=0, second=0, microsecond=0
    )
    appointment = booked(system, "Gil", "Source", unique_number(), day, "Brake check")
    sign_in(page, then=f"/appointments?date={day.date().isoformat()}&appointment={appointment['id']}")
    page.locator("#start-text").fill("Your brake check is tomorrow")
    page.locator("#start-form").get_by_role("button", name="Send").click()
    expect(page.locator("#conversation-pane .timeline")).to_contain_text("Your brake check is tomorrow")
    replies = [f"Reply {n} {secrets.token_hex(2)}" for n in range(3)]
    reply_and_note(page, replies)

    reached = system.api(
        "GET", f"/api/v1/sources/appointment/{appointment['dms_appointment_id']}/customers"
    ).json()["items"]
    sources = sources_of(system, reached[0]["conversation_id"])
    for body in ["Your brake check is tomorrow", *replies]:
        assert sources[body]["kind"] == "appointment", (body, sources[body])
        assert sources[body]["id"] == appointment["dms_appointment_id"], (body, sources[body])
    assert not [m for m in problems.messages if "oob" in m.lower()], problems.messages


def test_replies_from_a_campaigns_results_keep_the_campaign(page: Page, system: System, problems) -> None:
    campaign = {"kind": "campaign", "id": f"camp-{secrets.token_hex(4)}", "name": "Winter tires 2026"}
    number = unique_number()
    first = sent_from(system, campaign, number, "Winter tires are in")
    sign_in(page, then="/campaigns")
    page.get_by_role("row").filter(has_text="Winter tires 2026").get_by_role(
        "link", name="View results"
    ).click()
    page.locator(".reached-row").first.get_by_role("link").first.click()
    expect(page.locator("#conversation-pane .timeline")).to_contain_text("Winter tires are in")
    replies = [f"Campaign reply {n} {secrets.token_hex(2)}" for n in range(3)]
    reply_and_note(page, replies)

    sources = sources_of(system, first["conversation_id"])
    for body in replies:
        assert sources[body]["kind"] == "campaign", (body, sources[body])
        assert sources[body]["id"] == campaign["id"], (body, sources[body])
        assert sources[body]["name"] == "Winter tires 2026", (body, sources[body])
