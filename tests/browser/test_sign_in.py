"""Sign-in, the session cookie, CSRF and sign-out, as a person meets them in Chromium."""

import httpx
from playwright.sync_api import Page, expect

from devtools import demo
from tests.browser.conftest import System, axe_violations, screenshot, sign_in


def test_sign_in_returns_to_the_page_asked_for_and_keeps_the_token_out_of_reach(
    page: Page, system: System, problems
) -> None:
    page.goto("/conversations?status=closed")
    expect(page).to_have_url(f"{system.web}/signin?next=%2Fconversations%3Fstatus%3Dclosed")
    assert axe_violations(page) == []
    screenshot(page, "sign-in")

    page.get_by_label("E-mail", exact=True).fill(demo.AGENT_EMAIL)
    page.get_by_label("Password", exact=True).fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match")

    page.get_by_label("Password", exact=True).fill(demo.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{system.web}/conversations?status=closed")

    session = next(c for c in page.context.cookies() if c["name"] == "sb_session")
    assert session["httpOnly"] and session["sameSite"] == "Lax"
    assert page.evaluate("document.cookie").find("sb_session") == -1
    assert session["value"] not in page.content()

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{system.web}/signin")
    page.goto("/conversations")
    expect(page).to_have_url(f"{system.web}/signin?next=%2Fconversations")


def test_a_form_without_its_csrf_token_is_refused(page: Page, system: System) -> None:
    sign_in(page)
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    # The session cookie alone (what a forged cross-site form would carry) is not enough.
    answer = httpx.post(f"{system.web}/signout", cookies=cookies, data={}, follow_redirects=False)
    assert answer.status_code == 403
    with_token = httpx.post(
        f"{system.web}/signout",
        cookies=cookies,
        data={"csrftoken": cookies["csrftoken"]},
        follow_redirects=False,
    )
    assert with_token.status_code == 303


def test_security_headers_forbid_inline_script_and_framing(system: System) -> None:
    answer = httpx.get(f"{system.web}/signin")
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "same-origin"


def test_an_expired_session_goes_to_sign_in_then_back(page: Page, system: System) -> None:
    sign_in(page, then="/conversations?status=all")
    page.context.add_cookies([{"name": "sb_session", "value": "expired.token.value", "url": system.web}])
    page.reload()
    expect(page).to_have_url(f"{system.web}/signin?next=%2Fconversations%3Fstatus%3Dall")
    page.get_by_label("E-mail", exact=True).fill(demo.ADMIN_EMAIL)
    page.get_by_label("Password", exact=True).fill(demo.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{system.web}/conversations?status=all")


def test_french_sign_in(page: Page, system: System) -> None:
    page.goto("/signin")
    page.get_by_role("button", name="Français (Canada)").click()
    expect(page.get_by_label("Courriel", exact=True)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "fr-CA")
    assert axe_violations(page) == []


def test_too_many_failed_tries_are_answered_plainly(page: Page, system: System) -> None:
    # An e-mail no one has: routing counts its failures the same way, and no real person is held.
    page.goto("/signin")
    for _ in range(7):
        page.get_by_label("E-mail", exact=True).fill("someone.else@example.test")
        page.get_by_label("Password", exact=True).fill("not the password")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
    expect(page.get_by_role("alert")).to_contain_text("Too many tries")
    expect(page.get_by_label("E-mail", exact=True)).to_have_value("someone.else@example.test")
