"""The operator API (`/platform/v1`) in-process on the real PostgreSQL: operator tokens only,
idempotent creates, the first admin's invitation, suspend/resume state, the audit trail."""

import secrets
from collections.abc import AsyncIterator
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import func, select

from routing.platform.routes import platform_router
from routing.settings import RoutingSettings
from routing.tables import accounts, outbox, platform_audit
from shared.contracts.dealership import DealershipProvisioned, DealershipResumed, DealershipSuspended
from shared.contracts.topics import DEALERSHIP_PROVISIONED, DEALERSHIP_RESUMED, DEALERSHIP_SUSPENDED
from shared.http.auth import issue_token
from shared.http.errors import install_error_handlers
from shared.http.operator_auth import hash_operator_token

from .access_helpers import invitation_event, token_of

OPS_TOKEN = "ops-" + secrets.token_urlsafe(24)
ROTATED_TOKEN = "ci-" + secrets.token_urlsafe(24)
OPS = {"authorization": f"Bearer {OPS_TOKEN}"}
CI = {"authorization": f"Bearer {ROTATED_TOKEN}"}


@pytest.fixture(scope="module")
def operator_settings(routing_database_url: str) -> RoutingSettings:
    # One entry in clear, one as its digest (as a Secret would hold it): both are accepted.
    tokens = f"ops={OPS_TOKEN},ci={hash_operator_token(ROTATED_TOKEN)}"
    return RoutingSettings(database_url=routing_database_url, operator_tokens=SecretStr(tokens))


@pytest.fixture
async def ops(operator_settings, sessions, app) -> AsyncIterator[httpx.AsyncClient]:
    """The operator API beside the staff API (the same sessions), as routing serves both."""
    platform = FastAPI()
    install_error_handlers(platform)
    platform.include_router(platform_router(operator_settings, sessions))
    for route in app.routes:  # staff endpoints, to sign in as the new admin
        platform.router.routes.append(route)
    transport = httpx.ASGITransport(app=platform)
    async with httpx.AsyncClient(transport=transport, base_url="http://routing") as http:
        yield http


def new_body(**overrides) -> dict:
    tag = secrets.token_hex(4)
    return {
        "name": f"Laurier Toyota {tag}",
        "time_zone": "America/Toronto",
        "language": "fr_CA",
        "admin": {"name": "Dana Owner", "email": f"dana.{tag}@laurier.test"},
    } | overrides


async def counts(sessions) -> tuple[int, int, int]:
    async with sessions() as session:
        return (
            await session.scalar(select(func.count()).select_from(accounts)),
            await session.scalar(select(func.count()).select_from(outbox)),
            await session.scalar(select(func.count()).select_from(platform_audit)),
        )


async def events(sessions, topic: str, account_id: str, contract):
    async with sessions() as session:
        payloads = await session.scalars(
            select(outbox.c.payload)
            .where(outbox.c.topic == topic, outbox.c.key == account_id)
            .order_by(outbox.c.id)
        )
        return [contract.model_validate_json(bytes(p)) for p in payloads]


async def test_missing_wrong_and_staff_tokens_are_refused_and_change_nothing(ops, sessions, dealer, settings):
    staff_jwt = issue_token(settings, str(dealer.admin_id), dealer.account_id, "admin")
    before = await counts(sessions)
    for headers in (
        {},
        {"authorization": "Bearer nope"},
        {"authorization": f"Bearer {staff_jwt}"},
        dealer.admin,
    ):
        for method, path in (
            ("POST", "/platform/v1/dealerships"),
            ("GET", "/platform/v1/dealerships"),
            ("GET", f"/platform/v1/dealerships/{dealer.account_id}"),
            ("POST", f"/platform/v1/dealerships/{dealer.account_id}/suspend"),
            ("GET", "/platform/v1/audit"),
        ):
            answer = await ops.request(method, path, headers=headers, json=new_body())
            assert answer.status_code == 401, (method, path, answer.text)
            assert answer.json()["error"]["code"] == "unauthorized"
    assert await counts(sessions) == before
    async with sessions() as session:
        assert (
            await session.scalar(select(accounts.c.status).where(accounts.c.id == dealer.account_id))
            == "active"
        )


async def test_create_answers_the_dealership_and_the_admin_invitation_which_signs_them_in(ops, sessions):
    body = new_body()
    created = await ops.post("/platform/v1/dealerships", headers=OPS, json=body)
    assert created.status_code == 201, created.text
    dealership = created.json()
    assert (dealership["name"], dealership["time_zone"], dealership["language"], dealership["status"]) == (
        body["name"],
        "America/Toronto",
        "fr_CA",
        "active",
    )
    invitation = dealership["admin_invitation"]
    assert invitation["email"] == body["admin"]["email"]
    assert invitation["link"].startswith("http") and "token=" in invitation["link"]

    # What notifier e-mails: the same link, in the dealership's language.
    sent = await invitation_event(sessions, invitation["id"])
    assert (sent.link, sent.role, sent.language, sent.account_name) == (
        invitation["link"],
        "admin",
        "fr_CA",
        body["name"],
    )
    [provisioned] = await events(
        sessions, DEALERSHIP_PROVISIONED.name, dealership["id"], DealershipProvisioned
    )
    assert (provisioned.name, provisioned.time_zone, provisioned.language) == (
        body["name"],
        "America/Toronto",
        "fr_CA",
    )

    accepted = await ops.post(
        "/api/v1/invitations/accept",
        json={"token": token_of(invitation["link"]), "password": "a-long-pass-phrase"},
    )
    assert accepted.status_code == 200, accepted.text
    me = await ops.get("/api/v1/me", headers={"authorization": f"Bearer {accepted.json()['access_token']}"})
    assert (me.json()["role"], me.json()["account_id"]) == ("admin", dealership["id"])


async def test_an_idempotency_key_makes_a_retry_answer_the_same_dealership(ops, sessions):
    body = new_body()
    key = {"idempotency-key": f"create-{secrets.token_hex(8)}"}
    first = await ops.post("/platform/v1/dealerships", headers=OPS | key, json=body)
    assert first.status_code == 201, first.text
    before = await counts(sessions)
    again = await ops.post("/platform/v1/dealerships", headers=CI | key, json=body)
    assert again.status_code == 201, again.text
    assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    assert again.json() == first.json()
    accounts_now, outbox_now, _ = await counts(sessions)
    assert (accounts_now, outbox_now) == before[:2]  # no second dealership, no second e-mail

    different = await ops.post("/platform/v1/dealerships", headers=OPS | key, json=new_body())
    assert different.status_code == 422
    assert different.json()["error"]["code"] == "idempotency_key_reused"
    assert (await counts(sessions))[:2] == before[:2]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"time_zone": "../../etc/passwd"}, "time_zone"),
        ({"language": "de"}, "language"),
        ({"admin": {"name": "Dana", "email": "not-an-email"}}, "email"),
        ({"name": ""}, "name"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field(ops, sessions, change, field):
    before = await counts(sessions)
    answer = await ops.post("/platform/v1/dealerships", headers=OPS, json=new_body(**change))
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "invalid_request"
    assert field in str(answer.json()["error"]["details"])
    assert (await counts(sessions))[:2] == before[:2]


async def test_suspend_and_resume_store_the_state_and_queue_one_event_per_change(ops, sessions):
    account_id = (await ops.post("/platform/v1/dealerships", headers=OPS, json=new_body())).json()["id"]
    url = f"/platform/v1/dealerships/{account_id}"

    suspended = await ops.post(f"{url}/suspend", headers=OPS, json={"reason": "unpaid invoice"})
    assert suspended.status_code == 200, suspended.text
    assert suspended.json()["status"] == "suspended"
    assert (await ops.post(f"{url}/suspend", headers=OPS)).json()["status"] == "suspended"  # again: no change
    assert (await ops.get(url, headers=OPS)).json()["status"] == "suspended"
    listed = (await ops.get("/platform/v1/dealerships?status=suspended&limit=200", headers=OPS)).json()
    assert account_id in [d["id"] for d in listed["items"]]

    [event] = await events(sessions, DEALERSHIP_SUSPENDED.name, account_id, DealershipSuspended)
    assert (event.reason, event.suspended_by) == ("unpaid invoice", "ops")

    resumed = await ops.post(f"{url}/resume", headers=CI)
    assert resumed.json()["status"] == "active"
    [event] = await events(sessions, DEALERSHIP_RESUMED.name, account_id, DealershipResumed)
    assert event.resumed_by == "ci"

    unknown = await ops.post(f"/platform/v1/dealerships/{UUID(int=7)}/suspend", headers=OPS)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"


async def test_every_call_is_audited_with_the_token_name_and_never_a_secret(ops):
    created = (await ops.post("/platform/v1/dealerships", headers=OPS, json=new_body())).json()
    await ops.post(
        f"/platform/v1/dealerships/{created['id']}/suspend", headers=CI, json={"reason": "trial ended"}
    )
    await ops.get(f"/platform/v1/dealerships/{created['id']}", headers=OPS)

    trail = await ops.get(f"/platform/v1/audit?account_id={created['id']}", headers=OPS)
    assert trail.status_code == 200, trail.text
    lines = trail.json()["items"]
    assert [(line["action"], line["operator"], line["outcome"]) for line in lines] == [
        ("dealership.get", "ops", "ok"),
        ("dealership.suspend", "ci", "ok"),
        ("dealership.create", "ops", "ok"),
    ]
    assert all(line["operator_fingerprint"].startswith("sha256:") for line in lines)
    everything = (await ops.get("/platform/v1/audit?limit=500", headers=OPS)).text
    link_token = token_of(created["admin_invitation"]["link"])
    for secret in (OPS_TOKEN, ROTATED_TOKEN, link_token, hash_operator_token(OPS_TOKEN)[7:]):
        assert secret not in everything


async def test_the_list_pages_through_every_dealership_once(ops):
    for _ in range(3):
        assert (await ops.post("/platform/v1/dealerships", headers=OPS, json=new_body())).status_code == 201
    seen: list[str] = []
    cursor = None
    while True:
        query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = (await ops.get(f"/platform/v1/dealerships?{query}", headers=OPS)).json()
        seen += [d["id"] for d in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) >= 3
    bad = await ops.get("/platform/v1/dealerships?cursor=garbage", headers=OPS)
    assert bad.status_code == 422
