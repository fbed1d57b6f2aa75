"""Appointments in Chromium: pick a day, see who is coming in with the type and time, open one
to see its details beside the customer's conversation, insert a saved reply and send (the text
records the appointment as its source); a text that could not be delivered shows its plain
reason here too and marks the row; French; a phone's width; axe."""

import re
import secrets
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Page, expect

from devtools import demo
from tests.browser.conftest import System, axe_violations, screenshot, sign_in, unique_number


def account_zone(system: System) -> ZoneInfo:
    return ZoneInfo(system.api("GET", "/api/v1/account/settings").json()["time_zone"] or "UTC")


def dms_event(system: System, kind: str, record_id: str, payload: dict) -> None:
    event = {
        "event_id": str(uuid.uuid4()),
        "type": kind,
        "dms_record_id": record_id,
        "record_version": 1,
        "payload": payload,
    }
    answer = httpx.post(
        f"{system.services['ingest'].url}/api/v1/dms/events",
        json=event,
        headers={"authorization": f"Bearer {demo.DMS_INTEGRATION_SECRET}"},
        timeout=10,
    )
    assert answer.status_code in (200, 202), answer.text


def booked(system: System, first: str, last: str, number: str, at: datetime, kind: str) -> dict:
    """A customer and their appointment, as the DMS sends them; returns routing's appointment."""
    customer_id = f"C-{secrets.token_hex(4)}"
    appointment_id = f"A-{secrets.token_hex(4)}"
    dms_event(
        system,
        "customer.upserted",
        customer_id,
        {
            "dms_customer_id": customer_id,
            "first_name": first,
            "last_name": last,
            "phones": [{"number": number, "type": "mobile"}],
        },
    )
    dms_event(
        system,
        "appointment.booked",
        appointment_id,
        {
            "appointment_id": appointment_id,
            "dms_customer_id": customer_id,
            "starts_at": at.isoformat(),
            "appointment_type": kind,
            "advisor": "Lou Tremblay",
            "vehicle": {"year": 2019, "make": "Honda", "model": "Civic"},
        },
    )
    deadline = time.monotonic() + 15
    while True:
        day = system.api("GET", "/api/v1/appointments", params={"date": at.date().isoformat()}).json()
        found = [
            a
            for a in day["items"]
            if a["dms_appointment_id"] == appointment_id and a["customer"] and a["customer"]["mobile_e164"]
        ]
        if found:
            return found[0]
        assert time.monotonic() < deadline, "the appointment did not reach routing"
        time.sleep(0.2)


def saved_reply(system: System) -> str:
    name = f"Appointment reminder {secrets.token_hex(2)}"
    body = {"name": name, "body": "Hi {{ customer.first_name }}, see you at {{ appointment.time }}."}
    answer = system.api("POST", "/api/v1/saved-replies", json=body)
    assert answer.status_code in (200, 201), answer.text
    return name


@pytest.fixture
def english_after(system: System) -> Iterator[None]:
    """The language switch sets the person's profile: the next tests read English again."""
    yield
    system.api("PATCH", "/api/v1/me", json={"language": None}).raise_for_status()


def test_a_day_of_appointments_and_texting_a_customer_from_one(page: Page, system: System, problems) -> None:
    zone = account_zone(system)
    day = (datetime.now(zone) + timedelta(days=3 + secrets.randbelow(300))).replace(
        hour=9, minute=30, second=0, microsecond=0
    )
    first = booked(system, "Ana", "<b>Roy</b>", unique_number(), day, "Oil change")
    failing = booked(system, "Bea", "Gagnon", unique_number("0003"), day.replace(hour=14), "Winter tires")
    reply_name = saved_reply(system)

    sign_in(page, then=f"/appointments?date={day.date().isoformat()}")
    expect(page.get_by_role("link", name="Appointments")).to_have_attribute("aria-current", "page")
    rows = page.locator(".appointment-row")
    expect(rows).to_have_count(2)
    # Typed names are shown as text, in time order, with type and time.
    expect(rows.nth(0)).to_contain_text("Ana <b>Roy</b>")
    expect(rows.nth(0)).to_contain_text("Oil change")
    expect(rows.nth(0)).to_contain_text("9:30")
    expect(rows.nth(1)).to_contain_text("Winter tires")

    # Open the first: details, and no conversation yet: a composer that starts one.
    rows.nth(0).get_by_role("link").click()
    expect(page).to_have_url(re.compile(re.escape(f"appointment={first['id']}")))
    detail = page.locator("#appointment-detail")
    expect(detail.get_by_role("heading", name="Ana <b>Roy</b>")).to_be_visible()
    expect(detail).to_contain_text("Lou Tremblay")
    expect(detail).to_contain_text("2019 Honda Civic")
    # An empty text is refused beside the box.
    detail.get_by_role("button", name="Send").click()
    expect(page.locator("#start-error")).to_have_text("Write a text before sending.")
    # The refused form was swapped in: let htmx settle it before using its menu.
    page.wait_for_function("() => !document.querySelector('.htmx-swapping, .htmx-settling, .htmx-request')")
    page.get_by_label("Insert a saved reply").select_option(label=reply_name)
    expect(page.locator("#start-text")).to_have_value(
        re.compile(r"^Hi Ana, see you at 9:30\sAM\.$"), timeout=15_000
    )
    detail.get_by_role("button", name="Send").click()
    # The conversation is there now, with the text and the appointment as its source.
    pane = page.locator("#conversation-pane")
    expect(pane.locator(".timeline")).to_contain_text(re.compile(r"Hi Ana, see you at 9:30\sAM\."))
    expect(pane.locator(".timeline")).to_contain_text("Oil change")
    reached = system.api("GET", f"/api/v1/sources/appointment/{first['dms_appointment_id']}/customers").json()
    assert reached["items"][0]["customer_id"] == first["customer"]["id"]

    # A reply in that conversation, from this screen, is sent with the appointment too.
    page.locator("#composer-body").fill("Your car is ready <script>x</script>")
    pane.get_by_role("button", name="Send").click()
    expect(pane.locator(".timeline")).to_contain_text("Your car is ready <script>x</script>")
    expect(page.locator(".appointment-row").nth(0)).to_contain_text("Ana")
    reached = system.api("GET", f"/api/v1/sources/appointment/{first['dms_appointment_id']}/customers").json()
    latest = system.api(
        "GET",
        f"/api/v1/conversations/{reached['items'][0]['conversation_id']}/timeline",
        params={"limit": 50},
    ).json()["items"]
    bodies = [i["message"]["body"] for i in latest if i.get("message")]
    assert "Your car is ready <script>x</script>" in bodies

    # The second customer's number cannot receive texts: the plain reason, here too.
    page.locator(".appointment-row").nth(1).get_by_role("link").click()
    expect(page).to_have_url(re.compile(re.escape(f"appointment={failing['id']}")))
    page.locator("#start-text").fill("See you at 2 PM")
    page.locator("#start-form").get_by_role("button", name="Send").click()
    expect(page.locator("#conversation-pane .timeline")).to_contain_text("See you at 2 PM")
    expect(page.locator("#conversation-pane .timeline")).to_contain_text("Not delivered", timeout=15000)
    page.reload()
    failed_row = page.locator(".appointment-row.undelivered")
    expect(failed_row).to_have_count(1)
    expect(failed_row).to_contain_text("Text not delivered")
    expect(failed_row).to_contain_text("Bea Gagnon")
    expect(page.locator(".appointment-card .last-text")).to_contain_text("Not delivered")
    expect(page.locator(".appointment-card .delivery-reason")).not_to_be_empty()
    assert axe_violations(page) == []
    screenshot(page, "appointments")


def test_picking_days_a_bad_date_and_another_dealerships_appointment(
    page: Page, system: System, problems
) -> None:
    sign_in(page, then="/appointments")
    zone = account_zone(system)
    today = datetime.now(zone).date()
    expect(page.get_by_label("Date")).to_have_value(today.isoformat())
    page.get_by_role("link", name="Next day").click()
    expect(page.get_by_label("Date")).to_have_value((today + timedelta(days=1)).isoformat())
    page.get_by_role("link", name="Previous day").click()
    page.get_by_role("link", name="Previous day").click()
    expect(page).to_have_url(re.compile(re.escape(f"date={(today - timedelta(days=1)).isoformat()}")))
    page.get_by_label("Date").fill("2031-02-14")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", level=2)).to_contain_text("2031")
    # What was typed is kept and the error is beside the field.
    page.goto("/appointments?date=2031-13-45")
    expect(page.locator("#day-error")).to_have_text("Enter a date as YYYY-MM-DD.")
    expect(page.get_by_label("Date")).to_have_attribute("aria-invalid", "true")
    # An unknown (or another dealership's) appointment is not found.
    answer = page.goto(f"/appointments?date=2031-02-14&appointment={uuid.uuid4()}")
    assert answer is not None and answer.status == 404
    answer = page.goto("/appointments?appointment=nope")
    assert answer is not None and answer.status == 404


def test_appointments_in_french_on_a_phone(page: Page, system: System, problems, english_after) -> None:
    zone = account_zone(system)
    day = (datetime.now(zone) + timedelta(days=400 + secrets.randbelow(300))).replace(
        hour=8, minute=0, second=0, microsecond=0
    )
    appointment = booked(system, "Élise", "Côté", unique_number(), day, "Changement d'huile")
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, then=f"/appointments?date={day.date().isoformat()}")
    page.get_by_role("button", name="Français (Canada)").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr-CA")
    expect(page.get_by_role("heading", name="Rendez-vous", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Jour suivant")).to_be_visible()
    row = page.locator(".appointment-row")
    expect(row).to_contain_text("Élise Côté")
    expect(row).to_contain_text(re.compile(r"08\sh\s00"))
    row.get_by_role("link").click()
    expect(page).to_have_url(re.compile(re.escape(f"appointment={appointment['id']}")))
    expect(page.get_by_role("button", name="Envoyer")).to_be_visible()
    expect(page.get_by_role("link", name="Retour aux rendez-vous")).to_be_visible()
    # Everything of the pane fits the phone's width: the composer's box, its menu and Send.
    for control in (page.locator("#start-text"), page.get_by_role("button", name="Envoyer")):
        box = control.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    page.keyboard.press("Tab")
    assert axe_violations(page) == []
    screenshot(page, "appointments-fr-phone")
