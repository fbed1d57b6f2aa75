"""Saved replies (/saved-replies) in Chromium: create with a placeholder inserted from the list and
previewed before saving, a template routing refuses shown beside the field with nothing typed
lost, edit, delete; keyboard, phone width, French."""

import secrets

from playwright.sync_api import Page, expect

from devtools import demo
from tests.browser.conftest import System, axe_violations, screenshot, sign_in


def test_create_preview_refuse_edit_and_delete_a_saved_reply(page: Page, system: System, problems) -> None:
    name = f"Ready {secrets.token_hex(3)}"
    sign_in(page)
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Saved replies").click()
    page.wait_for_url("**/saved-replies")

    # Nothing typed: errors beside both fields.
    page.get_by_role("button", name="Create").click()
    expect(page.locator("#name-error")).to_have_text("Give the reply a name.")
    expect(page.locator("#body-error")).to_contain_text("Write the text of the reply.")
    # Focus goes to the first field in error once the answer has settled.
    expect(page.get_by_label("Name")).to_be_focused()

    page.get_by_label("Name").fill(name)
    body = page.get_by_label("Text", exact=True)
    body.fill("Hi ")
    page.get_by_role("button", name="Customer's first name").click()
    body.press("End")
    body.type(", your car is ready. <b>{{ sender.first_name }}</b>")
    expect(body).to_have_value(
        "Hi {{ customer.first_name }}, your car is ready. <b>{{ sender.first_name }}</b>"
    )
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#reply-preview .preview-text")
    sender = preview_sender(system)
    expect(preview).to_have_text(f"Hi [customer.first_name], your car is ready. <b>{sender}</b>")
    assert axe_violations(page) == []
    screenshot(page, "saved-replies")

    # A template that would fail: routing's message beside the field, everything typed kept.
    body.fill("Hi {{ customer.age }}, see you {{ appointment.time }}")
    # Someone who clicks into the name while the refusal settles stays there (the text in error
    # does not take the focus, and with it what they type next).
    page.evaluate(
        """() => document.addEventListener("htmx:afterSwap",
            () => document.getElementById("reply-name").focus(), {once: true})"""
    )
    page.get_by_role("button", name="Create").click()
    expect(page.locator("#body-error")).to_contain_text("unknown placeholder 'customer.age'")
    page.wait_for_function("() => !document.querySelector('.htmx-swapping, .htmx-settling, .htmx-request')")
    expect(page.get_by_label("Name")).to_be_focused()
    expect(page.get_by_label("Text", exact=True)).not_to_be_focused()
    expect(page.get_by_label("Name")).to_have_value(name)
    expect(page.get_by_label("Text", exact=True)).to_have_value(
        "Hi {{ customer.age }}, see you {{ appointment.time }}"
    )
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#reply-preview")).to_contain_text("unknown placeholder 'customer.age'")

    page.get_by_label("Text", exact=True).fill(
        "Hi {{ customer.first_name | default('there') }}, see you at {{ appointment.time }}"
    )
    page.get_by_role("button", name="Create").click()
    page.wait_for_url("**/saved-replies?done=created")
    expect(page.get_by_role("status")).to_have_text("The saved reply was created.")
    item = page.locator(".plain-list li").filter(has=page.get_by_role("heading", name=name))
    expect(item.locator(".reply-body")).to_have_text(
        "Hi {{ customer.first_name | default('there') }}, see you at {{ appointment.time }}"
    )

    # Edit: the form comes filled in; a clash of names is refused beside the name.
    item.get_by_role("link", name=f"Edit {name}").click()
    page.wait_for_url("**/saved-replies?edit=*")
    expect(page.get_by_label("Name")).to_have_value(name)
    page.get_by_label("Name").fill(f"{name} (v2)")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url("**/saved-replies?done=saved")
    # The save came back through htmx (form and list): let it settle before using the list.
    page.wait_for_function("() => !document.querySelector('.htmx-swapping, .htmx-settling, .htmx-request')")
    item = page.locator(".plain-list li").filter(has=page.get_by_role("heading", name=f"{name} (v2)"))
    expect(item).to_have_count(1)

    # Delete, by keyboard.
    item.locator("summary").focus()
    page.keyboard.press("Enter")
    item.get_by_role("button", name=f"Delete {name} (v2) for everyone").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/saved-replies?done=deleted")
    expect(page.get_by_role("heading", name=f"{name} (v2)")).to_have_count(0)

    # An id that does not exist answers like another dealership's.
    assert page.goto("/saved-replies?edit=00000000-0000-4000-8000-000000000000").status == 404


def preview_sender(system: System) -> str:
    me = system.api("GET", "/api/v1/me").json()
    return me["name"].split()[0]


def test_saved_replies_at_phone_width_in_french(page: Page, system: System, problems) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.context.add_cookies([{"name": "sb_lang", "value": "fr_CA", "url": system.web}])
    sign_in_fr(page)
    page.goto("/saved-replies")
    expect(page.get_by_role("heading", level=1)).to_have_text("Réponses enregistrées")
    assert page.evaluate("document.documentElement.scrollWidth <= 390")
    page.get_by_role("button", name="Créer").click()
    expect(page.locator("#name-error")).to_have_text("Donnez un nom à la réponse.")
    assert axe_violations(page) == []


def sign_in_fr(page: Page) -> None:
    page.goto("/signin?next=/saved-replies")
    page.get_by_label("Courriel", exact=True).fill(demo.ADMIN_EMAIL)
    page.get_by_label("Mot de passe", exact=True).fill(demo.PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/saved-replies")
