"""Staff accounts through the admin API: listing for the assign menu, adding, changing,
deactivating (history kept, login and tokens refused), and the rules that keep an account
administrable."""

import asyncio
import secrets
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from routing.admin.usecases.errors import LastAdmin
from routing.admin.usecases.users import StaffChanges, change_staff_member
from routing.tables import people, team_members, users

from .access_helpers import invite_and_accept
from .conftest import PASSWORD


def new_email() -> str:
    return f"pat.{secrets.token_hex(4)}@dealer.test"


async def login(client, email: str, password: str):
    return await client.post("/api/v1/auth/login", json={"email": email, "password": password})


async def bearer(client, email: str, password: str) -> dict:
    response = await login(client, email, password)
    assert response.status_code == 200, response.text
    return {"authorization": f"Bearer {response.json()['access_token']}"}


async def create_user(client, dealer, **fields) -> dict:
    """Invited, and the invitation accepted with the password "long-enough-1"."""
    user = await invite_and_accept(client, dealer, **fields)
    return {key: value for key, value in user.items() if key != "headers"}


async def test_any_staff_member_lists_the_staff_with_their_teams(client, dealer, other_dealer):
    response = await client.get("/api/v1/users", headers=dealer.sam)
    assert response.status_code == 200, response.text
    by_id = {row["id"]: row for row in response.json()}
    assert set(by_id) == {str(i) for i in (dealer.admin_id, dealer.sam_id, dealer.kim_id, dealer.lou_id)}
    assert by_id[str(dealer.sam_id)]["team_ids"] == [str(dealer.team_id)]
    assert by_id[str(dealer.lou_id)]["team_ids"] == []
    assert by_id[str(dealer.admin_id)]["role"] == "admin"
    assert all(row["active"] and "@" in row["email"] for row in by_id.values())
    assert str(other_dealer.sam_id) not in by_id


async def test_one_user_and_me(client, dealer):
    response = await client.get(f"/api/v1/users/{dealer.kim_id}", headers=dealer.sam)
    assert response.status_code == 200
    assert response.json()["name"] == "Kim Lee"
    assert (await client.get(f"/api/v1/users/{uuid.uuid4()}", headers=dealer.sam)).status_code == 404

    me = (await client.get("/api/v1/me", headers=dealer.sam)).json()
    assert me["id"] == str(dealer.sam_id)
    assert me["account_id"] == str(dealer.account_id)
    assert me["teams"] == [{"id": str(dealer.team_id), "name": "Service"}]


async def test_an_invited_user_sets_a_password_and_can_log_in(client, dealer):
    created = await create_user(client, dealer, name="  Pat Parts ", role="admin")
    assert (created["name"], created["role"], created["active"], created["team_ids"]) == (
        "Pat Parts",
        "admin",
        True,
        [],
    )
    token = await bearer(client, created["email"].upper(), "long-enough-1")
    me = (await client.get("/api/v1/me", headers=token)).json()
    assert (me["id"], me["role"]) == (created["id"], "admin")
    async with dealer.sessions() as session:
        stored = await session.scalar(
            select(people.c.password_hash)
            .join(users, users.c.person_id == people.c.id)
            .where(users.c.id == created["id"])
        )
    assert stored.startswith("$argon2") and "long-enough-1" not in stored


async def test_an_email_is_one_person_across_every_account_whatever_its_case(client, dealer, other_dealer):
    taken = (await client.get(f"/api/v1/users/{other_dealer.sam_id}", headers=other_dealer.admin)).json()[
        "email"
    ]
    own = (await client.get(f"/api/v1/users/{dealer.kim_id}", headers=dealer.admin)).json()["email"]
    # Someone of this dealership is not invited twice (someone of another one may join it).
    for email in (own, own.upper(), f"  {own.title()} "):
        body = {"email": email, "name": "Copy", "role": "agent"}
        response = await client.post("/api/v1/invitations", headers=dealer.admin, json=body)
        assert response.status_code == 409, response.text
        assert response.json()["error"]["code"] == "email_taken"
    # Another person's login is not taken over by changing an e-mail.
    response = await client.patch(
        f"/api/v1/users/{dealer.sam_id}", headers=dealer.admin, json={"email": taken}
    )
    assert response.status_code == 409


@pytest.mark.parametrize(
    "change",
    [
        {"password": "long-enough-1"},
        {"team_ids": ["not-a-team"]},
        {"role": "owner"},
        {"role": "service"},
        {"email": "not-an-email"},
        {"name": "   "},
        {"surprise": 1},
    ],
)
async def test_an_invalid_new_user_is_refused(client, dealer, change):
    body = {"email": new_email(), "name": "Pat", "role": "agent"} | change
    response = await client.post("/api/v1/invitations", headers=dealer.admin, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_request"


async def test_an_admin_changes_name_email_and_role_never_the_password(client, dealer):
    created = await create_user(client, dealer)
    email = new_email()
    response = await client.patch(
        f"/api/v1/users/{created['id']}",
        headers=dealer.admin,
        json={"name": "Pat Service", "email": email, "role": "admin"},
    )
    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["email"], response.json()["role"]) == (
        "Pat Service",
        email,
        "admin",
    )
    assert (await login(client, created["email"], "long-enough-1")).status_code == 401
    await bearer(client, email, "long-enough-1")
    # An admin never types a colleague's password: the field does not exist.
    refused = await client.patch(
        f"/api/v1/users/{created['id']}", headers=dealer.admin, json={"password": "a-new-password"}
    )
    assert refused.status_code == 422, refused.text
    await bearer(client, email, "long-enough-1")
    # Changing only the case of one's own e-mail is not a clash with oneself.
    response = await client.patch(
        f"/api/v1/users/{created['id']}", headers=dealer.admin, json={"email": email.upper()}
    )
    assert response.status_code == 200


async def test_deactivating_keeps_the_user_and_their_history_but_ends_their_teams(client, dealer, ago):
    conversation = await dealer.receive(ago(1))
    await dealer.set_assignee(conversation, user_id=dealer.sam_id)
    response = await client.patch(
        f"/api/v1/users/{dealer.sam_id}", headers=dealer.admin, json={"active": False}
    )
    assert response.status_code == 200, response.text
    sam = response.json()
    assert sam["active"] is False and sam["deactivated_at"] is not None
    assert sam["team_ids"] == []

    listed = {
        row["id"]: row
        for row in (await client.get("/api/v1/users", headers=dealer.headers(dealer.kim_id))).json()
    }
    assert listed[str(dealer.sam_id)]["active"] is False
    active = (
        await client.get("/api/v1/users", headers=dealer.headers(dealer.kim_id), params={"active": True})
    ).json()
    assert str(dealer.sam_id) not in {row["id"] for row in active}
    team = (await client.get(f"/api/v1/teams/{dealer.team_id}", headers=dealer.headers(dealer.kim_id))).json()
    assert team["member_ids"] == [str(dealer.kim_id)]
    conversation_now = (
        await client.get(f"/api/v1/conversations/{conversation}", headers=dealer.headers(dealer.kim_id))
    ).json()
    assert conversation_now["assignee_user_id"] == str(dealer.sam_id)

    response = await client.patch(
        f"/api/v1/users/{dealer.sam_id}", headers=dealer.admin, json={"active": True}
    )
    assert response.json()["active"] is True and response.json()["deactivated_at"] is None
    assert (await client.get("/api/v1/me", headers=dealer.sam)).status_code == 200


async def test_an_admin_cannot_deactivate_or_demote_themselves(client, dealer):
    await create_user(client, dealer, role="admin")  # not the last admin: still refused
    for change in ({"active": False}, {"role": "agent"}):
        response = await client.patch(f"/api/v1/users/{dealer.admin_id}", headers=dealer.admin, json=change)
        assert response.status_code == 409, response.text
        assert response.json()["error"]["code"] == "cannot_change_self"
    me = (await client.get("/api/v1/me", headers=dealer.admin)).json()
    assert (me["role"], me["active"]) == ("admin", True)
    # Other changes to oneself are fine.
    response = await client.patch(
        f"/api/v1/users/{dealer.admin_id}", headers=dealer.admin, json={"name": "Al"}
    )
    assert response.status_code == 200


async def test_another_admin_can_be_demoted_and_deactivated(client, dealer):
    second = await create_user(client, dealer, role="admin")
    response = await client.patch(
        f"/api/v1/users/{second['id']}", headers=dealer.admin, json={"role": "agent"}
    )
    assert response.json()["role"] == "agent"
    response = await client.patch(
        f"/api/v1/users/{second['id']}", headers=dealer.admin, json={"active": False}
    )
    assert response.json()["active"] is False


async def test_the_last_active_admin_cannot_be_demoted_or_deactivated(dealer):
    """Through the API an admin is always refused on themselves first; the rule still holds for
    whoever acts (a stale token, a race), checked under the account lock."""
    for change in (StaffChanges(role="agent"), StaffChanges(active=False)):
        with pytest.raises(LastAdmin):
            async with dealer.sessions.begin() as session:
                await change_staff_member(
                    session, dealer.account_id, dealer.sam_id, dealer.admin_id, change, datetime.now(UTC)
                )
    async with dealer.sessions() as session:
        row = (await session.execute(select(users).where(users.c.id == dealer.admin_id))).one()
    assert (row.role, row.active) == ("admin", True)


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(client, dealer):
    second = await create_user(client, dealer, role="admin")
    second_headers = await bearer(client, second["email"], "long-enough-1")
    responses = await asyncio.gather(
        client.patch(f"/api/v1/users/{second['id']}", headers=dealer.admin, json={"role": "agent"}),
        client.patch(f"/api/v1/users/{dealer.admin_id}", headers=second_headers, json={"role": "agent"}),
    )
    assert [r.status_code for r in responses].count(200) == 1
    assert {r.status_code for r in responses} <= {200, 403, 409}
    async with dealer.sessions() as session:
        admins = list(
            await session.scalars(
                select(users.c.id).where(
                    users.c.account_id == dealer.account_id, users.c.role == "admin", users.c.active
                )
            )
        )
    assert len(admins) == 1


async def test_agents_cannot_add_or_change_staff(client, dealer):
    body = {"email": new_email(), "name": "Pat", "role": "admin"}
    response = await client.post("/api/v1/invitations", headers=dealer.sam, json=body)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    for change in ({"role": "admin"}, {"active": False}, {"name": "Sam the Admin"}):
        for target in (dealer.sam_id, dealer.kim_id):
            response = await client.patch(f"/api/v1/users/{target}", headers=dealer.sam, json=change)
            assert response.status_code == 403, response.text
    me = (await client.get("/api/v1/me", headers=dealer.sam)).json()
    assert (me["role"], me["name"]) == ("agent", "Sam Agent")


async def test_another_accounts_staff_are_not_found(client, dealer, other_dealer):
    headers = other_dealer.admin
    assert (await client.get(f"/api/v1/users/{dealer.sam_id}", headers=headers)).status_code == 404
    for change in (
        {"name": "Taken Over"},
        {"active": False},
        {"role": "admin"},
    ):
        response = await client.patch(f"/api/v1/users/{dealer.sam_id}", headers=headers, json=change)
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "not_found"
    async with dealer.sessions() as session:
        row = (await session.execute(select(users).where(users.c.id == dealer.sam_id))).one()
        memberships = list(
            await session.scalars(select(team_members.c.team_id).where(team_members.c.user_id == row.id))
        )
    assert (row.name, row.active, row.role) == ("Sam Agent", True, "agent")
    assert memberships == [dealer.team_id]
    await bearer(client, row.email, PASSWORD)
