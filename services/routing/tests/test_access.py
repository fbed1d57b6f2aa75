"""Who may call what: a staff token is only as good as its user (deactivated, gone or of another
account → 401), roles come from the database, agents are refused admin work, service tokens
may read the staff list and nothing else here."""

import uuid
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI
from sqlalchemy import select, update

from routing.staff_auth import StaffAuthenticated
from routing.tables import users
from shared.http.auth import Principal, issue_token
from shared.http.errors import install_error_handlers

from .access_helpers import invite_and_accept
from .conftest import PASSWORD


def token_headers(settings, subject: str, account_id: uuid.UUID, role: str) -> dict:
    return {"authorization": f"Bearer {issue_token(settings, subject, account_id, role)}"}


async def email_of(dealer, user_id) -> str:
    async with dealer.sessions() as session:
        return await session.scalar(select(users.c.email).where(users.c.id == user_id))


async def test_a_deactivated_users_token_and_login_are_refused(client, dealer):
    email = await email_of(dealer, dealer.sam_id)
    assert (
        await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    ).status_code == 200
    sam = dealer.sam
    assert (await client.get("/api/v1/conversations", headers=sam)).status_code == 200

    response = await client.patch(
        f"/api/v1/users/{dealer.sam_id}", headers=dealer.admin, json={"active": False}
    )
    assert response.status_code == 200

    for path in ("/api/v1/conversations", "/api/v1/me", "/api/v1/users", "/api/v1/account/settings"):
        response = await client.get(path, headers=sam)
        assert response.status_code == 401, (path, response.text)
        assert response.json()["error"]["code"] == "unauthorized"
    deactivated = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    wrong = await client.post("/api/v1/auth/login", json={"email": email, "password": "not-the-password"})
    unknown = await client.post("/api/v1/auth/login", json={"email": f"x{email}", "password": PASSWORD})
    assert deactivated.status_code == wrong.status_code == unknown.status_code == 401
    assert deactivated.json() == wrong.json() == unknown.json()


async def test_a_token_whose_user_is_not_in_its_account_is_refused(client, dealer, other_dealer, settings):
    for headers in (
        token_headers(settings, str(dealer.sam_id), other_dealer.account_id, "agent"),
        token_headers(settings, str(dealer.admin_id), other_dealer.account_id, "admin"),
        token_headers(settings, str(uuid.uuid4()), dealer.account_id, "admin"),
        token_headers(settings, "not-a-user-id", dealer.account_id, "admin"),
    ):
        for path in ("/api/v1/users", "/api/v1/conversations", "/api/v1/account/settings"):
            response = await client.get(path, headers=headers)
            assert response.status_code == 401, (path, response.text)
    assert (await client.get("/api/v1/users")).status_code == 401


async def test_the_role_comes_from_the_database_not_the_token(client, dealer, settings):
    sam_claims_admin = token_headers(settings, str(dealer.sam_id), dealer.account_id, "admin")
    response = await client.post("/api/v1/teams", headers=sam_claims_admin, json={"name": "Sam's own"})
    assert response.status_code == 403
    assert (await client.get("/api/v1/me", headers=sam_claims_admin)).json()["role"] == "agent"

    second = await invite_and_accept(client, dealer, role="admin")
    b_headers = second["headers"]
    assert (await client.get("/api/v1/phone-numbers", headers=b_headers)).status_code == 200
    await client.patch(f"/api/v1/users/{second['id']}", headers=dealer.admin, json={"role": "agent"})
    # The token still says admin; the demotion counts at once.
    assert (await client.get("/api/v1/phone-numbers", headers=b_headers)).status_code == 403


async def test_every_admin_only_route_refuses_agents(client, dealer):
    user, team = f"/api/v1/users/{dealer.kim_id}", f"/api/v1/teams/{dealer.team_id}"
    for method, path, body in (
        (
            "POST",
            "/api/v1/invitations",
            {"email": "a@b.test", "name": "A", "role": "agent"},
        ),
        ("PATCH", user, {"name": "K"}),
        ("POST", "/api/v1/teams", {"name": "X"}),
        ("PATCH", team, {"name": "X"}),
        ("PUT", f"{team}/members", {"user_ids": []}),
        ("DELETE", team, None),
        ("GET", "/api/v1/phone-numbers", None),
        ("POST", "/api/v1/phone-numbers", {"number": "+14385550199", "carrier": "twilio"}),
        ("DELETE", f"/api/v1/phone-numbers/{uuid.uuid4()}", None),
        ("PATCH", "/api/v1/account/settings", {"help_text": "agents rule"}),
    ):
        response = await client.request(method, path, headers=dealer.sam, json=body)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["error"]["code"] == "forbidden"


async def test_service_tokens_read_the_staff_and_nothing_else_here(client, dealer, other_dealer, settings):
    notifier = token_headers(settings, "notifier", dealer.account_id, "service")
    staff = await client.get("/api/v1/users", headers=notifier)
    assert staff.status_code == 200
    assert {row["id"] for row in staff.json()} == {
        str(i) for i in (dealer.admin_id, dealer.sam_id, dealer.kim_id, dealer.lou_id)
    }
    sam = await client.get(f"/api/v1/users/{dealer.sam_id}", headers=notifier)
    assert sam.json()["email"] == await email_of(dealer, dealer.sam_id)
    assert (await client.get(f"/api/v1/users/{other_dealer.sam_id}", headers=notifier)).status_code == 404
    # The exporter prints the dealership's name and times in its time zone.
    account = await client.get("/api/v1/account/settings", headers=notifier)
    assert account.status_code == 200 and account.json()["name"].startswith("Dealer ")

    for method, path, body in (
        ("GET", "/api/v1/me", None),
        ("GET", "/api/v1/teams", None),
        ("GET", f"/api/v1/teams/{dealer.team_id}", None),
        ("GET", "/api/v1/phone-numbers", None),
        (
            "POST",
            "/api/v1/invitations",
            {"email": "s@b.test", "name": "S", "role": "admin"},
        ),
        ("PATCH", f"/api/v1/users/{dealer.sam_id}", {"active": False}),
        ("PATCH", "/api/v1/account/settings", {"help_text": "x"}),
        ("GET", "/api/v1/conversations", None),
    ):
        response = await client.request(method, path, headers=notifier, json=body)
        assert response.status_code == 403, (method, path, response.text)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def cached_app(settings, sessions):
    """A route behind StaffAuthenticated with a clock the test moves."""
    clock = FakeClock()
    auth = StaffAuthenticated(settings, sessions, cache_seconds=5, clock=clock)
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/whoami")
    async def whoami(principal: Annotated[Principal, Depends(auth)]) -> dict:
        return {"role": principal.role, "subject": principal.subject}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        yield http, clock, auth


async def test_the_user_lookup_is_cached_for_a_few_seconds(cached_app, dealer):
    http, clock, auth = cached_app
    assert (await http.get("/whoami", headers=dealer.sam)).json()["role"] == "agent"
    async with dealer.sessions.begin() as session:
        await session.execute(update(users).where(users.c.id == dealer.sam_id).values(active=False))
        await session.execute(update(users).where(users.c.id == dealer.kim_id).values(role="admin"))
    # Within the cache time, this process still answers from memory...
    assert (await http.get("/whoami", headers=dealer.sam)).status_code == 200
    clock.now += 5.1
    # ...and then asks again.
    assert (await http.get("/whoami", headers=dealer.sam)).status_code == 401
    assert (await http.get("/whoami", headers=dealer.headers(dealer.kim_id))).json()["role"] == "admin"

    async with dealer.sessions.begin() as session:
        await session.execute(update(users).where(users.c.id == dealer.sam_id).values(active=True))
    assert (await http.get("/whoami", headers=dealer.sam)).status_code == 401  # the refusal is cached too
    auth.forget(dealer.account_id, dealer.sam_id)
    assert (await http.get("/whoami", headers=dealer.sam)).status_code == 200


async def test_the_openapi_document_describes_the_admin_api(app):
    document = app.openapi()
    paths = document["paths"]
    for path, methods in {
        "/api/v1/users": {"get"},
        "/api/v1/invitations": {"get", "post"},
        "/api/v1/invitations/{invitation_id}": {"delete"},
        "/api/v1/users/{user_id}": {"get", "patch"},
        "/api/v1/me": {"get"},
        "/api/v1/teams": {"get", "post"},
        "/api/v1/teams/{team_id}": {"get", "patch", "delete"},
        "/api/v1/teams/{team_id}/members": {"put"},
        "/api/v1/phone-numbers": {"get", "post"},
        "/api/v1/phone-numbers/{number_id}": {"delete"},
        "/api/v1/account/settings": {"get", "patch"},
    }.items():
        assert methods <= paths[path].keys(), path
        for method in methods:
            operation = paths[path][method]
            assert operation["summary"], (path, method)
            assert "401" in operation["responses"], (path, method)
            assert operation.get("security"), (path, method)
    assert "403" in paths["/api/v1/invitations"]["post"]["responses"]
    assert "409" in paths["/api/v1/teams/{team_id}"]["delete"]["responses"]
    schemas = document["components"]["schemas"]
    assert schemas["StaffUser"]["properties"]["active"]["description"]
    assert "HTTPBearer" in document["components"]["securitySchemes"]
