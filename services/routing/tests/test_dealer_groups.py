"""Dealer groups: one person, one login, several dealerships; a token for one at a time, a switch
to another one they work at, and every query scoped to the token's dealership."""

import asyncio
from pathlib import Path
from uuid import uuid4

import asyncpg
from sqlalchemy import select
from sqlalchemy.engine import make_url

from routing.auth.usecases import password_hash
from routing.tables import users
from shared.db.migrations import upgrade
from shared.http.auth import decode_token, issue_token
from shared.testing.infrastructure import fresh_database

from .access_helpers import invitation_event, invite, reset_events, token_of
from .conftest import PASSWORD

MIGRATIONS = Path(__file__).parents[1] / "routing" / "migrations"


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def email_of(client, dealer, user_id) -> str:
    return (await client.get(f"/api/v1/users/{user_id}", headers=dealer.admin)).json()["email"]


async def join(client, dealer, email: str, password: str = PASSWORD, role: str = "agent"):
    """`dealer`'s admin invites someone who already works elsewhere; they accept with their password."""
    invitation = await invite(client, dealer.admin, email=email, name="Sam Again", role=role)
    event = await invitation_event(dealer.sessions, invitation["id"])
    return await client.post(
        "/api/v1/invitations/accept", json={"token": token_of(event.link), "password": password}
    )


async def login(client, email: str, password: str = PASSWORD):
    return await client.post("/api/v1/auth/login", json={"email": email, "password": password})


async def test_a_person_of_two_dealerships_signs_in_to_one_and_switches_to_the_other(
    client, dealer, other_dealer, settings, ago
):
    sam_email = await email_of(client, other_dealer, other_dealer.sam_id)
    invitation = await invite(client, dealer.admin, email=f"  {sam_email.upper()} ", name="Sam Again")
    link_token = token_of((await invitation_event(dealer.sessions, invitation["id"])).link)
    before = await login(client, sam_email)
    # Accepting asks for the password they already have (the link stays good), and keeps it.
    wrong = await client.post(
        "/api/v1/invitations/accept", json={"token": link_token, "password": "not their password at all"}
    )
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (422, "wrong_password")
    accepted = await client.post(
        "/api/v1/invitations/accept", json={"token": link_token, "password": PASSWORD}
    )
    assert accepted.status_code == 200, accepted.text
    here = decode_token(settings, accepted.json()["access_token"])
    assert here.account_id == dealer.account_id and here.user_id != other_dealer.sam_id
    # Their other session goes on (nothing about their login changed).
    assert (await client.get("/api/v1/me", headers=bearer(before.json()["access_token"]))).status_code == 200

    # Signing in: the dealership they last worked in (the one they just joined), and the list.
    signed_in = await login(client, sam_email)
    assert signed_in.status_code == 200, signed_in.text
    body = signed_in.json()
    assert body["account_id"] == str(dealer.account_id)
    assert {d["account_id"]: d["current"] for d in body["dealerships"]} == {
        str(dealer.account_id): True,
        str(other_dealer.account_id): False,
    }
    in_dealer = bearer(body["access_token"])
    listed = (await client.get("/api/v1/me/dealerships", headers=in_dealer)).json()
    assert [(d["account_id"], d["role"], d["current"]) for d in listed] == [
        (d["account_id"], "agent", d["current"]) for d in body["dealerships"]
    ]
    # The same list comes with who they are (what the web inbox's top bar shows).
    assert (await client.get("/api/v1/me", headers=in_dealer)).json()["dealerships"] == listed

    # Each dealership's token sees that dealership's conversations only.
    mine = await dealer.receive(ago(1), body="for the first dealership")
    theirs = await other_dealer.receive(ago(1), body="for the second dealership")
    seen = {
        row["id"] for row in (await client.get("/api/v1/conversations", headers=in_dealer)).json()["items"]
    }
    assert str(mine) in seen and str(theirs) not in seen
    assert (await client.get(f"/api/v1/conversations/{theirs}", headers=in_dealer)).status_code == 404

    switched = await client.post(
        "/api/v1/auth/switch", headers=in_dealer, json={"account_id": str(other_dealer.account_id)}
    )
    assert switched.status_code == 200, switched.text
    in_other = bearer(switched.json()["access_token"])
    me = (await client.get("/api/v1/me", headers=in_other)).json()
    assert (me["id"], me["account_id"]) == (str(other_dealer.sam_id), str(other_dealer.account_id))
    seen = {
        row["id"] for row in (await client.get("/api/v1/conversations", headers=in_other)).json()["items"]
    }
    assert str(theirs) in seen and str(mine) not in seen
    # The next sign-in lands where they last worked.
    assert (await login(client, sam_email)).json()["account_id"] == str(other_dealer.account_id)


async def test_switching_to_a_dealership_one_does_not_work_at_is_refused(
    client, dealer, other_dealer, sessions, settings
):
    from .conftest import new_dealership

    third = await new_dealership(sessions, settings)
    sam_email = await email_of(client, other_dealer, other_dealer.sam_id)
    assert (await join(client, dealer, sam_email)).status_code == 200
    token = bearer((await login(client, sam_email)).json()["access_token"])
    for target in (third.account_id, uuid4()):
        refused = await client.post("/api/v1/auth/switch", headers=token, json={"account_id": str(target)})
        assert (refused.status_code, refused.json()["error"]["code"]) == (404, "not_found")
        assert str(third.account_id) not in refused.text or target == third.account_id
    # Someone of one dealership only has nowhere to switch to.
    lone = dealer.headers(dealer.kim_id)
    refused = await client.post(
        "/api/v1/auth/switch", headers=lone, json={"account_id": str(other_dealer.account_id)}
    )
    assert refused.status_code == 404
    assert [d["account_id"] for d in (await client.get("/api/v1/me/dealerships", headers=lone)).json()] == [
        str(dealer.account_id)
    ]
    # A service token is not a person; no token is no one.
    service = bearer(issue_token(settings, "exporter", dealer.account_id, "service"))
    assert (await client.get("/api/v1/me/dealerships", headers=service)).status_code == 403
    assert (
        await client.post("/api/v1/auth/switch", json={"account_id": str(dealer.account_id)})
    ).status_code == 401
    bad = await client.post("/api/v1/auth/switch", headers=lone, json={"account_id": "not-an-id"})
    assert bad.status_code == 422


async def test_a_seat_token_is_scoped_to_its_own_dealership(client, dealer, other_dealer, settings):
    """A token is (seat, dealership): the same person's seat in one dealership with another
    dealership's account claim is refused, even correctly signed."""
    sam_email = await email_of(client, other_dealer, other_dealer.sam_id)
    accepted = await join(client, dealer, sam_email)
    seat_here = decode_token(settings, accepted.json()["access_token"]).user_id
    forged = bearer(issue_token(settings, str(seat_here), other_dealer.account_id, "agent"))
    assert (await client.get("/api/v1/conversations", headers=forged)).status_code == 401
    forged = bearer(issue_token(settings, str(other_dealer.sam_id), dealer.account_id, "agent"))
    assert (await client.get("/api/v1/me", headers=forged)).status_code == 401


async def test_deactivated_in_one_dealership_still_signs_in_to_the_other(client, dealer, other_dealer):
    sam_email = await email_of(client, other_dealer, other_dealer.sam_id)
    assert (await join(client, dealer, sam_email)).status_code == 200
    deactivated = await client.patch(
        f"/api/v1/users/{other_dealer.sam_id}", headers=other_dealer.admin, json={"active": False}
    )
    assert deactivated.status_code == 200, deactivated.text
    body = (await login(client, sam_email)).json()
    assert body["account_id"] == str(dealer.account_id)
    assert [d["account_id"] for d in body["dealerships"]] == [str(dealer.account_id)]
    refused = await client.post(
        "/api/v1/auth/switch",
        headers=bearer(body["access_token"]),
        json={"account_id": str(other_dealer.account_id)},
    )
    assert refused.status_code == 404


async def test_one_password_for_every_dealership_and_a_reset_ends_every_session(client, dealer, other_dealer):
    sam_email = await email_of(client, other_dealer, other_dealer.sam_id)
    assert (await join(client, dealer, sam_email)).status_code == 200
    in_dealer = bearer((await login(client, sam_email)).json()["access_token"])
    in_other = bearer(
        (
            await client.post(
                "/api/v1/auth/switch", headers=in_dealer, json={"account_id": str(other_dealer.account_id)}
            )
        ).json()["access_token"]
    )
    async with dealer.sessions() as session:
        person = await session.scalar(select(users.c.person_id).where(users.c.id == other_dealer.sam_id))
        seats = set(await session.scalars(select(users.c.account_id).where(users.c.person_id == person)))
    assert seats == {dealer.account_id, other_dealer.account_id}
    await asyncio.sleep(1.1)  # tokens carry whole seconds: the reset must come strictly later
    assert (await client.post("/api/v1/password-resets", json={"email": sam_email})).status_code == 202
    async with dealer.sessions() as session:
        seat_ids = list(await session.scalars(select(users.c.id).where(users.c.person_id == person)))
    (event,) = [event for seat in seat_ids for event in await reset_events(dealer.sessions, seat)]
    reset = await client.post(
        "/api/v1/password-resets/accept",
        json={"token": token_of(event.link), "password": "a whole new passphrase"},
    )
    assert reset.status_code == 200, reset.text
    assert (await client.get("/api/v1/me", headers=in_dealer)).status_code == 401
    assert (await client.get("/api/v1/me", headers=in_other)).status_code == 401
    assert (await login(client, sam_email)).status_code == 401
    assert (await login(client, sam_email, "a whole new passphrase")).status_code == 200


def test_the_migration_makes_each_existing_user_a_person_and_keeps_their_login():
    def before_people(url: str) -> None:
        upgrade(url, "routing", MIGRATIONS, "0009i")

    async def scenario(url: str) -> None:
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        connection = await asyncpg.connect(dsn)
        try:
            account, admin, agent = uuid4(), uuid4(), uuid4()
            await connection.execute(
                "INSERT INTO routing.accounts (id, name) VALUES ($1, 'Old Motors')", account
            )
            for user_id, email, role in (
                (admin, "Old.Admin@dealer.test", "admin"),
                (agent, "agent@dealer.test", "agent"),
            ):
                await connection.execute(
                    "INSERT INTO routing.users (id, account_id, email, name, password_hash, role)"
                    " VALUES ($1, $2, $3, 'Old', $4, $5)",
                    user_id,
                    account,
                    email,
                    password_hash.hash(f"{role} passphrase"),
                    role,
                )
            await asyncio.to_thread(upgrade, url, "routing", MIGRATIONS, "0010g")
            rows = await connection.fetch(
                "SELECT u.id, u.person_id, p.email, p.password_hash, p.last_account_id"
                " FROM routing.users u JOIN routing.people p ON p.id = u.person_id ORDER BY u.role"
            )
            assert [(r["id"], r["person_id"], r["email"], r["last_account_id"]) for r in rows] == [
                (admin, admin, "Old.Admin@dealer.test", account),
                (agent, agent, "agent@dealer.test", account),
            ]
            assert password_hash.verify("admin passphrase", rows[0]["password_hash"])
            # The person's e-mail is the one every reader of users sees.
            await connection.execute(
                "UPDATE routing.people SET email = 'new.admin@dealer.test' WHERE id = $1", admin
            )
            assert await connection.fetchval("SELECT email FROM routing.users WHERE id = $1", admin) == (
                "new.admin@dealer.test"
            )
        finally:
            await connection.close()

    with fresh_database("sbroutingmig", before_people) as url:
        asyncio.run(scenario(url))
