"""DMS integrations in Chromium: an agent is refused; an admin creates one from the settings
navigation, sees its secret once (copy it now), which ingest accepts at once over real HTTP;
rotates it (the old secret still works during the overlap, the new one too); revokes it, after
which ingest refuses the secret with 401."""

import re
import secrets
import uuid

import httpx
from playwright.sync_api import Page, expect

from devtools import demo
from tests.browser.conftest import System, axe_violations, screenshot, sign_in


def send_event(system: System, secret: str) -> int:
    """A DMS event to ingest, as an integrator sends it."""
    event = {
        "event_id": str(uuid.uuid4()),
        "type": "payment.recorded",
        "dms_record_id": "P-1",
        "record_version": 1,
        "payload": {"payment_id": "P-1", "dms_customer_id": "C-1", "amount": "10.00", "currency": "CAD"},
    }
    answer = httpx.post(
        f"{system.services['ingest'].url}/api/v1/dms/events",
        json=event,
        headers={"authorization": f"Bearer {secret}"},
        timeout=10,
    )
    return answer.status_code


def test_agents_are_refused(page: Page, system: System) -> None:
    sign_in(page, demo.AGENT_EMAIL)
    expect(
        page.get_by_role("navigation", name="Sections").get_by_role("link", name="DMS integrations")
    ).to_have_count(0)
    response = page.goto("/settings/dms-integrations")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="For administrators only")).to_be_visible()


def test_create_see_the_secret_once_rotate_and_revoke(page: Page, system: System, problems) -> None:
    name = f"CDK Drive {secrets.token_hex(3)}"
    sign_in(page)
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="DMS integrations").click()
    expect(page).to_have_url(re.compile(r"/settings/dms-integrations"))
    expect(page.get_by_role("heading", name="DMS integrations", level=1)).to_be_visible()

    # An empty name is refused beside the field.
    page.get_by_role("button", name="Create and show the secret").click()
    expect(page.locator("#integration-name-error")).to_have_text("This is required.")

    page.get_by_label("Integrator or DMS name").fill(name)
    page.get_by_role("button", name="Create and show the secret").click()
    shown = page.get_by_role("region", name="Copy the secret now")
    expect(shown).to_contain_text("This is the only time the secret is shown.")
    secret = page.get_by_label(f"Secret for {name}").input_value()
    assert secret.startswith("sbdms_")
    assert send_event(system, secret) == 202
    assert axe_violations(page) == []
    screenshot(page, "dms-integrations-secret")

    # Shown once: the list (and a reload) never shows it again, only its hint.
    page.goto("/settings/dms-integrations")
    expect(page.get_by_role("region", name="Copy the secret now")).to_have_count(0)
    assert secret not in page.content()
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name))
    expect(row).to_contain_text(secret[:10])
    expect(row).not_to_contain_text("Never")  # ingest saw it used

    row.locator("summary").filter(has_text="Rotate the secret").click()
    row.get_by_role("button", name=f"Make a new secret for {name}").click()
    expect(page.get_by_role("region", name="Copy the secret now")).to_contain_text(
        f"A new secret was made for {name}."
    )
    rotated = page.get_by_label(f"Secret for {name}").input_value()
    assert rotated.startswith("sbdms_") and rotated != secret
    expect(page.get_by_text("The previous secret keeps working until")).to_be_visible()
    # The overlap: both work while the integrator switches.
    assert send_event(system, secret) == 202
    assert send_event(system, rotated) == 202

    page.goto("/settings/dms-integrations")
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name))
    expect(row).to_contain_text("still works until")
    row.locator("summary").filter(has_text=re.compile(r"^Revoke")).click()
    row.get_by_role("button", name=f"Revoke {name}").click()
    expect(page.get_by_text("Integration revoked: its secret is refused from now on.")).to_be_visible()
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name))
    expect(row).to_contain_text(re.compile("Revoked"))
    expect(row.get_by_text("Rotate the secret")).to_have_count(0)
    assert send_event(system, rotated) == 401
    assert send_event(system, secret) == 401
    screenshot(page, "dms-integrations")
