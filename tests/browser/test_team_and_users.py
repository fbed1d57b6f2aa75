"""Teams and users, as an admin sees them in Chromium: a team created, renamed, given and
relieved of members, deleted; a role changed; a user deactivated (their conversations stay
theirs, reassignable, as the confirmation says); an invitation sent; refusals beside the field
with what was typed kept."""

import re
import secrets
import time
from email import policy
from email.parser import BytesParser
from urllib.parse import unquote

import httpx
import pytest
from playwright.sync_api import Page, expect

from devtools import demo
from tests.browser.conftest import System, axe_violations, screenshot, sign_in


def new_user(system: System, name: str, role: str = "agent") -> dict:
    """A colleague of the demo admin, as routing adds staff: invited, then the e-mailed link
    (read from the SMTP sink) accepted with a password."""
    email = f"{secrets.token_hex(4)}@demo.switchboard.test"
    invited = system.api("POST", "/api/v1/invitations", json={"email": email, "name": name, "role": role})
    invited.raise_for_status()
    token = None
    deadline = time.monotonic() + 30
    while token is None and time.monotonic() < deadline:
        for path in sorted(system.mail_dir.glob("*.eml")) if system.mail_dir.exists() else []:
            message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
            if email in str(message["to"]):
                body = message.get_body(preferencelist=("plain",))
                found = re.search(r"token=([A-Za-z0-9_\-.%]+)", body.get_content() if body else "")
                token = unquote(found.group(1)) if found else None
        time.sleep(0.3)
    if token is None:
        pytest.skip("the invitation e-mail did not arrive: notifier's access e-mails are not in place")
    accepted = httpx.post(
        f"{system.routing}/api/v1/invitations/accept",
        json={"token": token, "password": f"Pw-{secrets.token_hex(8)}"},
        timeout=10,
    )
    accepted.raise_for_status()
    [user] = [u for u in system.api("GET", "/api/v1/users").json() if u["email"] == email]
    return user


def test_a_team_from_creation_to_deletion(page: Page, system: System, problems) -> None:
    suffix = secrets.token_hex(3)
    first, second = new_user(system, f"Robin {suffix}"), new_user(system, f"Casey {suffix}")
    sign_in(page)
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Teams and users").click()
    expect(page).to_have_url(re.compile(r"/settings/team$"))
    teams = page.get_by_role("region", name="Teams")

    # A name already taken is refused beside the field; the members ticked stay ticked.
    page.get_by_label("Team name", exact=True).last.fill(demo.TEAM_NAME)
    page.get_by_role("checkbox", name=first["name"]).check()
    page.get_by_role("button", name="Create team").click()
    expect(page.locator("#new-team-name-error")).to_have_text(
        re.compile("A team with this name already exists.")
    )
    expect(page.locator("#new-team-name")).to_have_value(demo.TEAM_NAME)
    expect(page.get_by_role("checkbox", name=first["name"])).to_be_checked()

    page.locator("#new-team-name").fill(f"Body shop {suffix}")
    page.get_by_role("button", name="Create team").click()
    expect(page.get_by_role("status")).to_have_text("Team created.")
    card = teams.get_by_role("article", name=f"Body shop {suffix}")
    expect(card.get_by_role("list", name=f"Members of Body shop {suffix}")).to_contain_text(first["name"])
    assert axe_violations(page) == []
    page.goto("/settings/team")
    screenshot(page, "team")

    card.get_by_label("Add a member").select_option(label=second["name"])
    card.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Members updated.")
    members = card.get_by_role("list", name=f"Members of Body shop {suffix}")
    expect(members).to_contain_text(second["name"])

    card.get_by_role("button", name=f"Remove {first['name']} from Body shop {suffix}").click()
    expect(page.get_by_role("status")).to_have_text("Members updated.")
    expect(members).not_to_contain_text(first["name"])

    card.get_by_label("Team name").fill(f"Bodywork {suffix}")
    card.get_by_role("button", name="Rename").click()
    expect(page.get_by_role("status")).to_have_text("Team renamed.")
    card = teams.get_by_role("article", name=f"Bodywork {suffix}")
    card.locator("summary").click()
    card.get_by_role("button", name=f"Delete Bodywork {suffix}").click()
    expect(page.get_by_role("status")).to_have_text("Team deleted.")
    expect(teams.get_by_role("article", name=f"Bodywork {suffix}")).to_have_count(0)


def test_a_role_changed_and_a_user_deactivated(page: Page, system: System, problems) -> None:
    person = new_user(system, f"Jordan {secrets.token_hex(3)}")
    sign_in(page, then="/settings/team")
    row = page.locator(f"#user-{person['id']}")
    row.get_by_label(f"Role of {person['name']}").select_option("admin")
    row.get_by_role("button", name=f"Change role {person['name']}").click()
    expect(page.get_by_role("status")).to_have_text("Role changed.")
    assert system.api("GET", f"/api/v1/users/{person['id']}").json()["role"] == "admin"

    row.locator("summary").click()
    expect(row).to_contain_text("Their conversations stay, still assigned to them")
    expect(row).to_contain_text("can reassign them from the inbox")
    row.get_by_role("button", name=f"Deactivate {person['name']}").click()
    expect(page.get_by_role("status")).to_contain_text("Their conversations stay assigned to them")
    expect(row).to_contain_text("Deactivated")
    assert system.api("GET", f"/api/v1/users/{person['id']}").json()["active"] is False

    # Routing's rule: you cannot demote yourself; said beside your own row.
    me = page.locator(f"#user-{demo.ADMIN_ID}")
    me.get_by_label(re.compile("^Role of")).select_option("agent")
    me.get_by_role("button", name=re.compile("^Change role")).click()
    expect(me.locator(".field-error")).to_have_text(re.compile("You cannot deactivate or demote yourself"))
    assert system.api("GET", f"/api/v1/users/{demo.ADMIN_ID}").json()["role"] == "admin"

    row = page.locator(f"#user-{person['id']}")
    row.get_by_role("button", name=f"Reactivate {person['name']}").click()
    expect(page.get_by_role("status")).to_have_text("User reactivated: they can sign in again.")


def test_inviting_keeps_what_was_typed_when_refused(page: Page, system: System, problems) -> None:
    sign_in(page, then="/settings/team")
    invite = page.get_by_role("region", name="Invite a user")
    invite.get_by_label("Full name").fill("Morgan Lee")
    invite.get_by_role("button", name="Send invitation").click()
    expect(page.locator("#invite-email-error")).to_have_text(re.compile("This is required."))
    expect(invite.get_by_label("Full name")).to_have_value("Morgan Lee")
    assert axe_violations(page) == []


def test_an_invitation_is_sent_and_listed(page: Page, system: System, problems) -> None:
    email = f"new-{secrets.token_hex(4)}@demo.switchboard.test"
    sign_in(page, then="/settings/team")
    invite = page.get_by_role("region", name="Invite a user")
    invite.get_by_label("Full name").fill("Taylor New")
    invite.get_by_label("E-mail").fill(email)
    invite.get_by_label("Role").select_option("agent")
    invite.get_by_label(demo.TEAM_NAME).check()
    invite.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("status")).to_have_text("Invitation sent.")
    expect(invite).to_contain_text(email)
    invite.get_by_role("button", name=f"Cancel invitation {email}").click()
    expect(page.get_by_role("status")).to_have_text("Invitation cancelled.")
    expect(invite).not_to_contain_text(email)
