"""Account access in Chromium: an admin invites a colleague, who sets their own password from
the e-mailed link and lands in the inbox; the link works once; a forgotten password is reset
from another e-mailed link, after which only the new password signs in."""

import re
import secrets
import time
from email import message_from_bytes, policy
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

from tests.browser.conftest import System, axe_violations, screenshot

LINK = re.compile(r"https?://[^\s\"'<>]+?(/invitations/accept|/password-reset)\?token=[^\s\"'<>]+")


def link_in_mail(system: System, address: str, page_path: str, seen: set[str], timeout: float = 30) -> str:
    """The first new e-mail to `address` holding a link to `page_path`, as a path on this web."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for file in sorted(system.mail_dir.glob("*.eml")) if system.mail_dir.exists() else []:
            if file.name in seen:
                continue
            message = message_from_bytes(file.read_bytes(), policy=policy.default)
            if address not in str(message.get("To", "")):
                continue
            for part in message.walk():
                if part.get_content_maintype() != "text":
                    continue
                found = LINK.search(part.get_content().replace("&amp;", "&"))
                if found and found.group(1) == page_path:
                    seen.add(file.name)
                    link = urlsplit(found.group(0))
                    return f"{link.path}?{link.query}"
        time.sleep(0.3)
    raise AssertionError(f"no e-mail to {address} linking to {page_path} within {timeout}s")


def set_password(page: Page, password: str) -> None:
    page.get_by_label("New password", exact=True).fill(password)
    page.get_by_label("Confirm the password", exact=True).fill(password)
    page.get_by_role("button", name="Save and sign in").click()


def sign_in_as(page: Page, email: str, password: str) -> None:
    page.goto("/signin")
    page.get_by_label("E-mail", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_an_invited_colleague_sets_a_password_and_can_reset_it(page: Page, system: System, problems) -> None:
    address = f"new.hire.{secrets.token_hex(4)}@dealer.test"
    invited = system.api(
        "POST", "/api/v1/invitations", json={"email": address, "name": "New Hire", "role": "agent"}
    )
    assert invited.status_code == 201, invited.text
    seen: set[str] = set()
    invitation = link_in_mail(system, address, "/invitations/accept", seen)

    page.goto(invitation)
    expect(page.get_by_role("heading", name="Set your password")).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, "set-password")

    page.get_by_label("New password", exact=True).fill("password1234")
    page.get_by_label("Confirm the password", exact=True).fill("password1234")
    page.get_by_role("button", name="Save and sign in").click()
    password = page.get_by_label("New password", exact=True)
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#password-error")).to_contain_text("most commonly used")
    assert axe_violations(page) == []

    first = "harbour lights 2026 amber"
    password.fill(first)
    page.get_by_label("Confirm the password", exact=True).fill(first + "x")
    page.get_by_role("button", name="Save and sign in").click()
    expect(page.locator("#confirmation-error")).to_contain_text("do not match")

    set_password(page, first)
    expect(page).to_have_url(re.compile(re.escape(f"{system.web}/conversations")))
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    # Routing tells a used link apart only when it is used again.
    page.goto(invitation)
    set_password(page, "another long password 42")
    expect(page.get_by_role("alert")).to_contain_text("already used")
    expect(page.get_by_text("Ask your administrator for a new invitation.")).to_be_visible()

    # Forgotten: the same answer for an address that has no account and for one that does.
    page.goto("/signin")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("E-mail", exact=True).fill(f"nobody.{secrets.token_hex(4)}@dealer.test")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("status")).to_contain_text("If this address has an account, a link is on its way")
    page.get_by_label("E-mail", exact=True).fill(address)
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("status")).to_contain_text("If this address has an account, a link is on its way")
    assert axe_violations(page) == []

    reset = link_in_mail(system, address, "/password-reset", seen)
    page.goto(reset)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    second = "maple harbour 2027 cobalt"
    set_password(page, second)
    expect(page).to_have_url(re.compile(re.escape(f"{system.web}/conversations")))

    page.get_by_role("button", name="Sign out").click()
    page.goto(reset)
    set_password(page, "another long password 42")
    expect(page.get_by_role("alert")).to_contain_text("already used")
    expect(page.get_by_role("link", name="Ask for a new link")).to_have_attribute("href", "/forgot-password")

    sign_in_as(page, address, first)
    expect(page.get_by_role("alert")).to_contain_text("do not match")
    sign_in_as(page, address, second)
    expect(page).to_have_url(re.compile(re.escape(f"{system.web}/conversations")))
