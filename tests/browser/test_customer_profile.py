"""The customer profile (/customers/{id}) as a person meets it in Chromium: names, phones with
their type, the DMS identity, profile notes, and the Conversations tab with the active
conversation and the conversation archived by a profile merge, still readable."""

import re
import secrets
import uuid
from datetime import UTC, datetime

import httpx
from playwright.sync_api import Page, expect

from devtools import demo
from tests.browser.conftest import System, axe_violations, screenshot, sign_in, unique_number
from tests.browser.inbox_helpers import conversation_of, eventually


def dms_customer(system: System, dms_id: str, version: int, number: str, first: str, last: str) -> None:
    """The DMS says this customer's mobile is `number`, through ingest's HTTP door."""
    event = {
        "event_id": str(uuid.uuid4()),
        "occurred_at": datetime.now(UTC).isoformat(),
        "schema_version": 1,
        "type": "customer.upserted",
        "dms_record_id": dms_id,
        "record_version": version,
        "payload": {
            "dms_customer_id": dms_id,
            "first_name": first,
            "last_name": last,
            "phones": [{"number": number, "type": "mobile"}],
        },
    }
    answer = httpx.post(
        f"{system.services['ingest'].url}/api/v1/dms/events",
        json=event,
        headers={"authorization": f"Bearer {demo.DMS_INTEGRATION_SECRET}"},
        timeout=10,
    )
    assert answer.status_code == 202, answer.text
    assert answer.json()["results"][0]["status"] == "accepted", answer.text


def customer_with_dms_id(system: System, dms_id: str, number: str) -> dict:
    def look() -> dict | None:
        answer = system.api("GET", "/api/v1/customers", params={"q": number[-7:]})
        answer.raise_for_status()
        return next((c for c in answer.json()["items"] if c["dms_customer_id"] == dms_id), None)

    return eventually(look)


def test_a_merged_profile_keeps_its_archived_conversation_readable(
    page: Page, system: System, problems
) -> None:
    # Customer A texts in first: a profile made by the text, with its conversation.
    a_number = unique_number()
    system.text_in(a_number, "Hi, this is Ana from my old phone")
    a_conversation = conversation_of(system, a_number)
    # Customer B comes from the DMS with another mobile and texts from it.
    dms_id = f"CUST-{secrets.token_hex(3).upper()}"
    b_number = unique_number()
    dms_customer(system, dms_id, 1, b_number, "Bea", "Roy")
    b = customer_with_dms_id(system, dms_id, b_number)
    system.text_in(b_number, "Bea here, is my car ready?")
    b_conversation = conversation_of(system, b_number)
    # The DMS gives B the mobile A texted from: the profiles merge, A's conversation is archived.
    dms_customer(system, dms_id, 2, a_number, "Bea", "Roy")

    def merged() -> dict | None:
        found = system.api("GET", f"/api/v1/customers/{b['id']}").json()
        return found if a_conversation["id"] in found["archived_conversation_ids"] else None

    eventually(merged, timeout=20)

    sign_in(page, then=f"/conversations/{b_conversation['id']}")
    # The conversation pane's customer name opens the profile.
    page.locator("#conversation-pane").get_by_role("link", name="Bea Roy").click()
    page.wait_for_url(f"**/customers/{b['id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bea Roy")
    expect(page.locator(".dms-id")).to_have_text(dms_id)
    phones = page.locator(".phones")
    expect(phones).to_contain_text(a_number[-4:])
    expect(phones.locator(".phone-kind")).to_have_text(["Mobile"])

    # A profile note, typed text shown as text; an empty one is refused beside the field.
    page.get_by_role("button", name="Add the note").click()
    expect(page.locator("#note-error")).to_have_text("Write the note first.")
    page.get_by_label("New note").fill("No longer reachable by text <b>call the landline</b>")
    page.get_by_role("button", name="Add the note").click()
    expect(page.locator(".note-body").first).to_have_text(
        "No longer reachable by text <b>call the landline</b>"
    )
    expect(page.get_by_label("New note")).to_have_value("")
    page.reload()
    expect(page.locator(".note-body").first).to_contain_text("No longer reachable by text")

    # Editing the names.
    page.get_by_label("First name").fill("Béatrice")
    page.get_by_role("button", name="Save the names").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Béatrice Roy")
    assert axe_violations(page) == []

    # The Conversations tab: the active one and the archived one, each readable.
    page.get_by_role("link", name="Conversations 2").click()
    page.wait_for_url("**tab=conversations")
    rows = page.locator(".customer-conversation")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Active conversation")
    expect(rows.nth(1)).to_contain_text("Archived conversation")
    expect(rows.nth(1)).to_contain_text("Hi, this is Ana from my old phone")
    assert axe_violations(page) == []
    screenshot(page, "customer-profile")
    rows.nth(1).get_by_role("link").click()
    page.wait_for_url(f"**/conversations/{a_conversation['id']}**")
    expect(page.locator("#conversation-pane")).to_contain_text("Hi, this is Ana from my old phone")
    expect(page.locator("#conversation-pane .badge.status-archived")).to_have_text("Archived")


def test_profile_reachable_from_search_at_phone_width_and_in_french(
    page: Page, system: System, problems
) -> None:
    number = unique_number()
    system.text_in(number, "Phone width please")
    conversation = conversation_of(system, number)
    system.api(
        "PATCH",
        f"/api/v1/customers/{conversation['customer_id']}",
        json={
            "first_name": "Zoé",
            "last_name": "Zed" + "".join(secrets.choice("bcdfghjklmnpqrstvwxz") for _ in range(8)),
        },
    )
    last = system.api("GET", f"/api/v1/customers/{conversation['customer_id']}").json()["last_name"]
    sign_in(page, then=f"/search?q={last}")
    profile_link = page.get_by_role("link", name=re.compile(f"^Customer profile\\W+Zoé {last}$")).first

    def found() -> bool:
        if profile_link.count():
            return True
        page.reload()  # search's index follows routing within moments
        return False

    eventually(found)
    expect(profile_link).to_have_attribute("href", f"/customers/{conversation['customer_id']}")
    profile_link.click()
    page.wait_for_url(f"**/customers/{conversation['customer_id']}")
    expect(page.locator(".dms-id")).to_have_text("Not linked to the DMS")

    # Another dealership's id (or a made-up one) answers like one that does not exist.
    assert page.goto(f"/customers/{uuid.uuid4()}").status == 404
    assert page.goto("/customers/not-an-id").status == 404

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/customers/{conversation['customer_id']}")
    assert page.evaluate("document.documentElement.scrollWidth <= 390")
    page.get_by_label("New note").focus()
    page.keyboard.type("Call after 5")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator(".note-body").first).to_have_text("Call after 5")
    assert axe_violations(page) == []

    page.context.add_cookies([{"name": "sb_lang", "value": "fr_CA", "url": page.url}])
    page.goto(f"/customers/{conversation['customer_id']}?tab=conversations")
    expect(page.get_by_role("heading", name="Conversations")).to_be_visible()
    expect(page.locator(".customer-conversation")).to_contain_text("Conversation active")
