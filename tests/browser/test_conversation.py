"""The open conversation (the right-hand pane of /conversations), as a person meets it in
Chromium: the timeline, assigning, closing, notes with @mentions, the composer, the draft, the
"new message arrived" check, paging back, the export dialog, French, and the keyboard."""

import re
import time
import uuid

from playwright.sync_api import Page, expect

from devtools import demo
from tests.browser.conftest import System, axe_violations, screenshot, sign_in, unique_number


def conversation_of(system: System, number: str, timeout: float = 15) -> str:
    """The conversation of the customer who texted from `number`, once routing has it."""
    deadline = time.monotonic() + timeout
    while True:
        answer = system.api(
            "GET", "/api/v1/conversations", params={"view": "all", "status": "all", "limit": 200}
        )
        answer.raise_for_status()
        found = [c["id"] for c in answer.json()["items"] if c["customer_phone"] == number]
        if found:
            return found[0]
        assert time.monotonic() < deadline, f"no conversation for {number}"
        time.sleep(0.1)


def texted(system: System, body: str, number: str | None = None) -> tuple[str, str]:
    number = number or unique_number()
    system.text_in(number, body)
    return number, conversation_of(system, number)


def timeline_count(system: System, conversation_id: str) -> int:
    answer = system.api("GET", f"/api/v1/conversations/{conversation_id}/timeline", params={"limit": 500})
    return len(answer.json()["items"])


def assign(system: System, conversation_id: str, user_id: uuid.UUID, note: str | None = None) -> None:
    body = {"assignee": {"user_id": str(user_id)}, "conversation_ids": [conversation_id], "note": note}
    system.api("POST", "/api/v1/conversations/assign", json=body).raise_for_status()


def reply_as(system: System, conversation_id: str, email: str, **body) -> None:
    path = f"/api/v1/conversations/{conversation_id}/messages"
    system.api("POST", path, email=email, json=body).raise_for_status()


def pane(page: Page):
    return page.locator("#conversation-pane")


def test_timeline_shows_senders_sources_delivery_events_and_typed_text_as_text(
    page: Page, system: System, problems
) -> None:
    number, conversation_id = texted(system, "<script>alert(1)</script><b>x</b>")
    assign(system, conversation_id, demo.ADMIN_ID, note="Yours, thanks")
    # A colleague replies in my conversation, with a file.
    reply_as(
        system,
        conversation_id,
        demo.AGENT_EMAIL,
        body="Here is your quote",
        attachments=[{"url": "https://files.example.test/q.pdf", "file_name": "quote.pdf"}],
    )
    outreach = {
        "customer_phone": number,
        "body": "Winter tires are 20% off",
        "source": {
            "kind": "campaign",
            "id": "c-1",
            "name": "Winter tires",
            "url": "https://crm.example.test/c/1",
        },
    }
    system.api("POST", "/api/v1/outreach", json=outreach).raise_for_status()

    sign_in(page, then=f"/conversations/{conversation_id}?view=all&status=all")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("<script>alert(1)</script><b>x</b>")
    assert timeline.locator("b").count() == 0
    colleague = timeline.locator(".message.outbound", has_text="Here is your quote")
    expect(colleague.locator(".sender")).to_have_text("Sam Agent")
    expect(colleague.get_by_role("link", name="quote.pdf")).to_have_attribute(
        "href", "https://files.example.test/q.pdf"
    )
    campaign = timeline.locator(".message", has_text="Winter tires are 20% off")
    expect(campaign.get_by_role("link", name="Winter tires")).to_have_attribute(
        "href", "https://crm.example.test/c/1"
    )
    # Relative time ("… ago"), the exact time on hover.
    expect(campaign.locator("time")).to_contain_text("ago")
    assert campaign.locator("time").get_attribute("title")
    expect(timeline.get_by_text("Assigned to Alex Admin by Alex Admin")).to_be_visible()
    expect(timeline.locator(".note")).to_contain_text("Yours, thanks")
    assert page.locator("#conversation-pane > [data-conversation]").get_attribute("data-conversation") == (
        conversation_id
    )
    assert axe_violations(page) == []
    screenshot(page, "conversation")


def test_opening_marks_read_then_assign_close_and_reopen(page: Page, system: System, problems) -> None:
    number, conversation_id = texted(system, "Is my car ready?")
    assign(system, conversation_id, demo.ADMIN_ID)
    sign_in(page, then="/conversations?view=mine&status=open")
    row = page.locator(f"#rows .row[data-conversation='{conversation_id}']")
    expect(row).to_contain_text(number)
    expect(row).to_have_class(re.compile(r"\bunread-mine\b"))

    row.locator(".row-link").click()
    expect(page).to_have_url(f"{system.web}/conversations/{conversation_id}?view=mine&status=open")
    expect(pane(page)).to_contain_text("Is my car ready?")
    expect(row).not_to_have_class(re.compile(r"\bunread-mine\b"))

    page.locator("#assign-button").click()
    menu = page.locator("#assign-menu")
    menu.get_by_label("Assign to", exact=True).select_option(label="Team Service")
    menu.get_by_label("Note for your colleague (optional)").fill("Please call them back")
    menu.get_by_role("button", name="Assign").click()
    expect(page.locator("#timeline")).to_contain_text("Assigned to Service by Alex Admin")
    expect(page.locator("#timeline .note")).to_contain_text("Please call them back")

    page.locator("#status-button").click()
    expect(page.locator("#timeline")).to_contain_text("Closed by Alex Admin")
    expect(page.locator("#status-button")).to_have_text("Reopen")
    page.locator("#status-button").click()
    expect(page.locator("#timeline")).to_contain_text("Reopened by Alex Admin")
    expect(page.locator("#status-button")).to_have_text("Close")


# Passes once routing's POST /api/v1/conversations/{id}/unread is in (another engineer's work).
def test_mark_as_unread_brings_the_red_highlight_back(page: Page, system: System) -> None:
    _number, conversation_id = texted(system, "Call me please")
    assign(system, conversation_id, demo.ADMIN_ID)
    sign_in(page, then=f"/conversations/{conversation_id}?view=mine&status=open")
    row = page.locator(f"#rows .row[data-conversation='{conversation_id}']")
    expect(row).not_to_have_class(re.compile(r"\bunread-mine\b"))
    page.get_by_role("button", name="Mark as unread").click()
    expect(row).to_have_class(re.compile(r"\bunread-mine\b"), timeout=3000)


def test_a_note_mentions_a_colleague_chosen_from_suggestions(page: Page, system: System, problems) -> None:
    _number, conversation_id = texted(system, "Brake noise again")
    sign_in(page, then=f"/conversations/{conversation_id}?view=all")
    note = page.locator("#note-body")
    note.press_sequentially("Can you call them, @sa")
    suggestion = page.locator("#mention-suggestions").get_by_role("button", name=re.compile("Sam Agent"))
    expect(suggestion).to_be_visible()
    note.press("ArrowDown")
    expect(suggestion).to_be_focused()
    page.keyboard.press("Enter")
    expect(note).to_have_value("Can you call them, @Sam Agent ")
    note.press_sequentially("please?")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#timeline .note").last).to_contain_text("Can you call them, @Sam Agent please?")
    items = system.api("GET", f"/api/v1/conversations/{conversation_id}/timeline").json()["items"]
    notes = [i for i in items if i["kind"] == "note"]
    assert notes[-1]["data"]["mentioned_user_ids"] == [str(demo.AGENT_ID)]


def test_a_reply_shows_queued_then_delivered_and_a_saved_reply_is_inserted(
    page: Page, system: System, problems
) -> None:
    name = f"Car ready {uuid.uuid4().hex[:6]}"
    saved = {"name": name, "body": "Hi {{ customer.first_name | default('there') }}, your car is ready."}
    system.api("POST", "/api/v1/saved-replies", json=saved).raise_for_status()
    _number, conversation_id = texted(system, "Any news?")
    sign_in(page, then=f"/conversations/{conversation_id}?view=all")

    body = page.locator("#composer-body")
    body.fill("Good news:")
    page.get_by_label("Insert a saved reply").select_option(label=name)
    expect(body).to_have_value("Good news:\nHi there, your car is ready.")
    page.get_by_role("button", name="Send", exact=True).click()
    sent = page.locator("#timeline .message.outbound", has_text="your car is ready")
    expect(sent.locator(".delivery")).to_have_text(re.compile("Queued|Sending|Sent"))
    expect(body).to_have_value("")
    # Delivery callbacks come 0.3 s later; live updates are another layer's, so look again.
    deadline = time.monotonic() + 15
    while "Delivered" not in sent.locator(".delivery").inner_text():
        assert time.monotonic() < deadline
        page.wait_for_timeout(300)
        page.reload()
    expect(sent.locator(".delivery")).to_have_text("Delivered")


def test_a_text_to_a_landline_says_so_in_plain_words(page: Page, system: System) -> None:
    _number, conversation_id = texted(system, "Call my home phone", number=unique_number("0009"))
    sign_in(page, then=f"/conversations/{conversation_id}?view=all")
    page.locator("#composer-body").fill("We will call you")
    page.get_by_role("button", name="Send", exact=True).click()
    failed = page.locator("#timeline .message.failed", has_text="We will call you")
    deadline = time.monotonic() + 15
    while not failed.count():
        assert time.monotonic() < deadline
        page.wait_for_timeout(300)
        page.reload()
    expect(failed.locator(".delivery")).to_have_text("Not delivered")
    expect(failed).to_contain_text("The number is a landline and cannot receive texts.")


def test_an_opted_out_customer_blocks_the_composer_but_not_the_note(page: Page, system: System) -> None:
    number, conversation_id = texted(system, "Hello")
    system.text_in(number, "STOP")
    deadline = time.monotonic() + 15
    while system.api("GET", f"/api/v1/conversations/{conversation_id}/composer").json()["can_send"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    sign_in(page, then=f"/conversations/{conversation_id}?view=all")
    expect(page.locator("#composer-body")).to_be_disabled()
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_disabled()
    expect(pane(page)).to_contain_text("This customer opted out of texts")
    expect(page.locator("#timeline")).to_contain_text("The customer opted out of texts")
    page.locator("#note-body").fill("Opted out: call them instead")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#timeline .note")).to_contain_text("Opted out: call them instead")


def test_a_reply_draft_is_kept_per_conversation(page: Page, system: System) -> None:
    first_number, first = texted(system, "First customer here")
    second_number, second = texted(system, "Second customer here")
    sign_in(page, then=f"/conversations/{first}?view=all&status=open")
    page.locator("#composer-body").fill("Draft for the first")
    page.locator(f"#rows .row[data-conversation='{second}'] .row-link").click()
    expect(pane(page)).to_contain_text("Second customer here")
    expect(page.locator("#composer-body")).to_have_value("")
    page.locator("#composer-body").fill("Draft for the second")
    page.locator(f"#rows .row[data-conversation='{first}'] .row-link").click()
    expect(pane(page)).to_contain_text("First customer here")
    expect(page.locator("#composer-body")).to_have_value("Draft for the first")
    page.go_back()
    expect(pane(page)).to_contain_text(second_number)
    expect(page.locator("#composer-body")).to_have_value("Draft for the second")
    assert first_number != second_number


def test_a_text_that_arrived_meanwhile_is_shown_before_the_reply_goes_out(page: Page, system: System) -> None:
    number, conversation_id = texted(system, "Can I come Monday?")
    sign_in(page, then=f"/conversations/{conversation_id}?view=all")
    page.locator("#composer-body").fill("Monday works, see you then")
    before = timeline_count(system, conversation_id)
    system.text_in(number, "Actually, make it Tuesday")
    deadline = time.monotonic() + 15
    while timeline_count(system, conversation_id) == before:
        assert time.monotonic() < deadline
        time.sleep(0.1)

    page.get_by_role("button", name="Send", exact=True).click()
    expect(pane(page).get_by_role("alert")).to_have_text("A new message arrived — read it, then send again.")
    expect(page.locator("#timeline")).to_contain_text("Actually, make it Tuesday")
    expect(page.locator("#composer-body")).to_have_value("Monday works, see you then")
    assert page.locator("#timeline .message.outbound").count() == 0

    page.locator("#composer-body").fill("Tuesday works, see you then")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("#timeline .message.outbound")).to_contain_text("Tuesday works, see you then")
    expect(pane(page).get_by_role("alert")).to_have_count(0)


def test_the_timeline_opens_at_its_newest_and_pages_back(page: Page, system: System) -> None:
    _number, conversation_id = texted(system, "The very first text")
    for n in range(1, 36):
        path = f"/api/v1/conversations/{conversation_id}/notes"
        system.api("POST", path, json={"body": f"Note number {n}."}).raise_for_status()
    sign_in(page, then=f"/conversations/{conversation_id}?view=all")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Note number 35.")
    expect(timeline.get_by_text("Note number 35.")).to_be_in_viewport()
    expect(timeline).not_to_contain_text("The very first text")
    expect(timeline).not_to_contain_text("Note number 1.")
    timeline.get_by_role("button", name="Show earlier").click()
    expect(timeline).to_contain_text("The very first text")
    expect(timeline).to_contain_text("Note number 1.")
    expect(timeline.get_by_role("button", name="Show earlier")).to_have_count(0)
    texts = timeline.locator(".note .body").all_inner_texts()
    assert texts == [f"Note number {n}." for n in range(1, 36)]


def test_export_dialog_asks_exporter_for_a_range(page: Page, system: System, problems) -> None:
    _number, conversation_id = texted(system, "Please send me the history")
    sign_in(page, then=f"/conversations/{conversation_id}?view=all")
    page.get_by_role("button", name="Export").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Between two dates").check()
    dialog.get_by_label("From", exact=True).fill("2026-01-10")
    dialog.get_by_label("To", exact=True).fill("2026-01-01")
    dialog.get_by_role("button", name="Export").click()
    expect(dialog.get_by_role("alert")).to_have_text("The first day comes after the last day.")
    dialog.get_by_label("To", exact=True).fill("2026-02-01")
    assert axe_violations(page) == []
    screenshot(page, "export-dialog")
    dialog.get_by_role("button", name="Export").click()
    expect(dialog).to_contain_text(f"The link to the PDF is on its way to {demo.ADMIN_EMAIL} by e-mail.")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()


def test_an_unknown_or_made_up_conversation_is_not_found(page: Page, system: System) -> None:
    sign_in(page)
    for address in (f"/conversations/{uuid.uuid4()}", "/conversations/not-an-id"):
        answer = page.goto(address)
        assert answer is not None and answer.status == 404
        expect(page.get_by_role("heading", name="Not found")).to_be_visible()


def test_the_conversation_in_canadian_french(page: Page, system: System, problems) -> None:
    _number, conversation_id = texted(system, "Bonjour, mon auto est prête?")
    reply_as(system, conversation_id, demo.ADMIN_EMAIL, body="Oui, dès 15 h.")
    sign_in(page, then=f"/conversations/{conversation_id}?view=all")
    page.get_by_role("button", name="Français (Canada)").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr-CA")
    expect(page.get_by_role("button", name="Envoyer", exact=True)).to_be_visible()
    expect(page.locator("#assign-button")).to_have_text("Assigner")
    expect(page.locator("#timeline time").first).to_contain_text("il y a")
    assert axe_violations(page) == []
    screenshot(page, "conversation-fr")


def test_the_pane_is_used_with_the_keyboard(page: Page, system: System) -> None:
    _number, conversation_id = texted(system, "Keyboard check")
    sign_in(page, then=f"/conversations/{conversation_id}?view=all")
    # From the customer's name (a link to their profile) at the top of the pane, Tab onwards.
    page.locator("#conversation-title a").focus()
    reached = set()
    for _ in range(40):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("document.activeElement.id"))
    assert {"assign-button", "status-button", "unread-button", "export-button"} <= reached
    assert {"composer-body", "note-body"} <= reached
    page.locator("#assign-button").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#assign-menu")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#assign-menu")).to_be_hidden()
