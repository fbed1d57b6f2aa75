"""Invitations and password resets through the API: an admin invites (never types a password),
the invitee sets their own through the e-mailed link (single use, expiring, signed), forgotten
passwords are reset the same way, and setting one ends the user's other sessions."""

import secrets
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from routing.tables import invitations, outbox, password_resets, people, users

from .access_helpers import NEW_PASSWORD, invitation_event, invite, reset_events, token_of
from .conftest import PASSWORD


def new_email() -> str:
    return f"new.{secrets.token_hex(4)}@dealer.test"


async def accept(client, token: str, password: str = NEW_PASSWORD):
    return await client.post("/api/v1/invitations/accept", json={"token": token, "password": password})


async def test_an_invitee_sets_a_password_joins_the_teams_and_is_signed_in(client, dealer, settings):
    email = new_email()
    invitation = await invite(
        client, dealer.admin, email=email, name="Nora New", team_ids=[str(dealer.team_id)], language="fr_CA"
    )
    assert set(invitation) == {"id", "email", "name", "role", "team_ids", "created_at", "expires_at"}
    expires = datetime.fromisoformat(invitation["expires_at"]) - datetime.fromisoformat(
        invitation["created_at"]
    )
    assert expires == timedelta(days=7)
    listed = (await client.get("/api/v1/invitations", headers=dealer.admin)).json()
    assert [row["email"] for row in listed if row["id"] == invitation["id"]] == [email]

    event = await invitation_event(dealer.sessions, invitation["id"])
    assert (event.email, event.name, event.role, event.language) == (email, "Nora New", "agent", "fr_CA")
    assert event.account_name.startswith("Dealer ") and event.invited_by_name == "Alex Admin"
    assert event.link.startswith(f"{settings.app_base_url}/invitations/accept?token=")
    token = token_of(event.link)
    async with dealer.sessions() as session:
        stored = (
            await session.execute(select(invitations).where(invitations.c.id == invitation["id"]))
        ).one()
    assert token not in stored.token_digest and len(stored.token_digest) == 64

    answer = await accept(client, token)
    assert answer.status_code == 200, answer.text
    headers = {"authorization": f"Bearer {answer.json()['access_token']}"}
    me = (await client.get("/api/v1/me", headers=headers)).json()
    assert (me["email"], me["name"], me["role"], me["team_ids"]) == (
        email,
        "Nora New",
        "agent",
        [str(dealer.team_id)],
    )
    login = await client.post("/api/v1/auth/login", json={"email": email, "password": NEW_PASSWORD})
    assert login.status_code == 200
    assert invitation["id"] not in {
        row["id"] for row in (await client.get("/api/v1/invitations", headers=dealer.admin)).json()
    }

    again = await accept(client, token, "another long passphrase")
    assert (again.status_code, again.json()["error"]["code"]) == (410, "invitation_used")


async def test_duplicates_taken_emails_and_bad_input_are_clear_4xx(client, dealer, other_dealer):
    email = new_email()
    await invite(client, dealer.admin, email=email)
    duplicate = await client.post(
        "/api/v1/invitations",
        headers=dealer.admin,
        json={"email": email.upper(), "name": "X", "role": "agent"},
    )
    assert (duplicate.status_code, duplicate.json()["error"]["code"]) == (409, "invitation_pending")
    # Someone of this dealership already (someone of another one may join: dealer groups).
    sam = (await client.get(f"/api/v1/users/{dealer.sam_id}", headers=dealer.admin)).json()
    taken = await client.post(
        "/api/v1/invitations",
        headers=dealer.admin,
        json={"email": sam["email"].upper(), "name": "X", "role": "agent"},
    )
    assert (taken.status_code, taken.json()["error"]["code"]) == (409, "email_taken")
    for body in (
        {"email": "not-an-email", "name": "X", "role": "agent"},
        {"email": new_email(), "name": "X", "role": "owner"},
        {"email": new_email(), "name": "X", "role": "agent", "team_ids": [str(other_dealer.team_id)]},
    ):
        response = await client.post("/api/v1/invitations", headers=dealer.admin, json=body)
        assert response.status_code == 422, (body, response.text)
    agent = await client.post(
        "/api/v1/invitations", headers=dealer.sam, json={"email": new_email(), "name": "X", "role": "agent"}
    )
    assert agent.status_code == 403
    assert (await client.get("/api/v1/invitations", headers=dealer.sam)).status_code == 403
    # Another dealership's admin neither sees nor revokes it.
    mine = (await client.get("/api/v1/invitations", headers=dealer.admin)).json()
    assert mine and not {row["id"] for row in mine} & {
        row["id"] for row in (await client.get("/api/v1/invitations", headers=other_dealer.admin)).json()
    }
    assert (
        await client.delete(f"/api/v1/invitations/{mine[0]['id']}", headers=other_dealer.admin)
    ).status_code == 404


async def test_revoked_expired_and_forged_links_say_so(client, dealer):
    revoked = await invite(client, dealer.admin)
    revoked_token = token_of((await invitation_event(dealer.sessions, revoked["id"])).link)
    assert (
        await client.delete(f"/api/v1/invitations/{revoked['id']}", headers=dealer.admin)
    ).status_code == 204
    answer = await accept(client, revoked_token)
    assert (answer.status_code, answer.json()["error"]["code"]) == (410, "invitation_revoked")

    expired = await invite(client, dealer.admin)
    expired_token = token_of((await invitation_event(dealer.sessions, expired["id"])).link)
    async with dealer.sessions.begin() as session:
        await session.execute(
            update(invitations)
            .where(invitations.c.id == expired["id"])
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
    answer = await accept(client, expired_token)
    assert (answer.status_code, answer.json()["error"]["code"]) == (410, "invitation_expired")
    assert "new one" in answer.json()["error"]["message"]
    # An expired invitation does not block a new one to the same person.
    await invite(client, dealer.admin, email=expired["email"])

    for forged in ("nonsense", expired_token[:-2] + "xx", expired_token.replace(".", "")):
        answer = await accept(client, forged)
        assert (answer.status_code, answer.json()["error"]["code"]) == (400, "invalid_token"), forged


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("short-pw", "password_too_short"),
        ("password1234!", "password_too_common"),
        ("q1w2e3r4t5y6", "password_too_common"),
    ],
)
async def test_weak_passwords_are_refused_and_the_link_still_works(client, dealer, password, code):
    invitation = await invite(client, dealer.admin)
    token = token_of((await invitation_event(dealer.sessions, invitation["id"])).link)
    answer = await accept(client, token, password)
    assert (answer.status_code, answer.json()["error"]["code"]) == (422, code)
    assert password not in answer.text
    assert (await accept(client, token)).status_code == 200


async def _user_token(client, email: str, password: str = PASSWORD) -> dict:
    login = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert login.status_code == 200, login.text
    return {"authorization": f"Bearer {login.json()['access_token']}"}


async def test_a_reset_answers_the_same_for_anyone_and_ends_other_sessions(client, dealer, settings):
    kim = (await client.get(f"/api/v1/users/{dealer.kim_id}", headers=dealer.admin)).json()
    old_session = await _user_token(client, kim["email"])
    # Tokens are issued in whole seconds: the old session must be strictly older than the reset.
    async with dealer.sessions.begin() as session:
        await session.execute(
            update(people)
            .where(
                people.c.id == select(users.c.person_id).where(users.c.id == dealer.kim_id).scalar_subquery()
            )
            .values(sessions_valid_after=None)
        )
    unknown = await client.post("/api/v1/password-resets", json={"email": new_email()})
    known = await client.post("/api/v1/password-resets", json={"email": f"  {kim['email'].upper()} "})
    assert (unknown.status_code, unknown.content) == (known.status_code, known.content) == (202, b"")

    (event,) = await reset_events(dealer.sessions, dealer.kim_id)
    assert event.email == kim["email"] and event.link.startswith(
        f"{settings.app_base_url}/password-reset?token="
    )
    assert event.expires_at - event.occurred_at <= timedelta(hours=1, seconds=1)
    import asyncio

    await asyncio.sleep(1.1)
    answer = await client.post(
        "/api/v1/password-resets/accept",
        json={"token": token_of(event.link), "password": "a brand new passphrase"},
    )
    assert answer.status_code == 200, answer.text
    new_session = {"authorization": f"Bearer {answer.json()['access_token']}"}
    assert (await client.get("/api/v1/me", headers=new_session)).status_code == 200
    assert (await client.get("/api/v1/me", headers=old_session)).status_code == 401
    kim_now = (await client.get(f"/api/v1/users/{dealer.kim_id}", headers=dealer.admin)).json()
    assert kim_now["sessions_valid_after"] is not None  # what other services check tokens against
    assert (
        await client.post("/api/v1/auth/login", json={"email": kim["email"], "password": PASSWORD})
    ).status_code == 401
    await _user_token(client, kim["email"], "a brand new passphrase")

    used = await client.post(
        "/api/v1/password-resets/accept",
        json={"token": token_of(event.link), "password": "yet another passphrase"},
    )
    assert (used.status_code, used.json()["error"]["code"]) == (410, "reset_used")


async def test_resets_are_rate_limited_per_person_and_expire(client, dealer):
    lou = (await client.get(f"/api/v1/users/{dealer.lou_id}", headers=dealer.admin)).json()
    for _ in range(5):
        assert (await client.post("/api/v1/password-resets", json={"email": lou["email"]})).status_code == 202
    events = await reset_events(dealer.sessions, dealer.lou_id)
    assert len(events) == 3
    async with dealer.sessions.begin() as session:
        await session.execute(
            update(password_resets)
            .where(password_resets.c.id == events[0].reset_id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    answer = await client.post(
        "/api/v1/password-resets/accept",
        json={"token": token_of(events[0].link), "password": "long enough passphrase"},
    )
    assert (answer.status_code, answer.json()["error"]["code"]) == (410, "reset_expired")
    # An invitation's token is not a reset token, and the other way round.
    answer = await client.post(
        "/api/v1/invitations/accept",
        json={"token": token_of(events[1].link), "password": "long enough passphrase"},
    )
    assert (answer.status_code, answer.json()["error"]["code"]) == (400, "invalid_token")


async def test_tokens_and_passwords_never_reach_the_logs(client, dealer, capsys, caplog):
    invitation = await invite(client, dealer.admin)
    token = token_of((await invitation_event(dealer.sessions, invitation["id"])).link)
    await accept(client, token, "short")
    await accept(client, token, "a secret passphrase here")
    captured = capsys.readouterr()
    for secret in (token, "a secret passphrase here"):
        assert secret not in captured.out + captured.err + caplog.text
    async with dealer.sessions() as session:
        assert await session.scalar(select(outbox.c.id).limit(1)) is not None
