"""An admin's DMS integrations through the real app on real Postgres and Kafka, staff checked
against a routing stand-in over HTTP: a secret is shown once and works at once, is stored only
as a hash, keeps working through a rotation's overlap and not after it, and is refused (401,
nothing stored) once revoked; agents and other accounts get nothing."""

import asyncio
import logging
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text

API = "/api/v1/dms/integrations"
EVENTS = "/api/v1/dms/events"


def payment(**overrides) -> dict:
    event = {
        "event_id": str(uuid.uuid4()),
        "type": "payment.recorded",
        "dms_record_id": "P-100",
        "record_version": 1,
        "payload": {"payment_id": "P-100", "dms_customer_id": "C-7", "amount": "412.5", "currency": "USD"},
    }
    event.update(overrides)
    return event


def bearer(secret: str) -> dict[str, str]:
    return {"authorization": f"Bearer {secret}"}


async def send_event(client, secret: str, **overrides) -> int:
    return (await client.post(EVENTS, json=payment(**overrides), headers=bearer(secret))).status_code


async def create(client, admin, name: str = "CDK Drive") -> dict:
    response = await client.post(API, json={"name": name}, headers=admin.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def rejections_of(sessions, integration_id: str) -> int:
    async with sessions() as session:
        return await session.scalar(
            text("SELECT count(*) FROM ingest.dms_rejections WHERE integration_id = :id"),
            {"id": integration_id},
        )


async def test_a_new_integrations_secret_is_shown_once_and_works_at_once(client, staff, sessions, caplog):
    caplog.set_level(logging.INFO)
    admin = staff("admin")
    created = await client.post(API, json={"name": "  CDK Drive "}, headers=admin.headers)
    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    body = created.json()
    secret = body["secret"]
    assert secret.startswith("sbdms_") and len(secret) >= 40
    assert body["name"] == "CDK Drive" and body["status"] == "active"
    assert body["last_used_at"] is None
    assert body["current_secret"]["hint"] == secret[:10] + "…"

    listed = (await client.get(API, headers=admin.headers)).json()
    assert [i["id"] for i in listed] == [body["id"]]
    assert secret not in str(listed) and "secret" not in listed[0]

    assert await send_event(client, secret) == 202
    used = (await client.get(f"{API}/{body['id']}", headers=admin.headers)).json()
    assert used["last_used_at"] is not None
    assert used["current_secret"]["last_used_at"] is not None

    async with sessions() as session:
        stored = (
            await session.execute(
                text(
                    "SELECT secret_sha256, hint FROM ingest.dms_integration_secrets"
                    " WHERE integration_id = :id"
                ),
                {"id": body["id"]},
            )
        ).one()
    assert secret not in stored.secret_sha256 and len(stored.secret_sha256) == 64
    assert secret not in stored.hint
    assert "dms integration created" in caplog.text
    assert secret not in caplog.text


async def test_last_used_is_written_at_most_once_a_minute(client, staff):
    admin = staff("admin")
    integration = await create(client, admin)
    assert await send_event(client, integration["secret"]) == 202
    first = (await client.get(f"{API}/{integration['id']}", headers=admin.headers)).json()["last_used_at"]
    await asyncio.sleep(0.05)
    assert await send_event(client, integration["secret"]) == 202
    second = (await client.get(f"{API}/{integration['id']}", headers=admin.headers)).json()["last_used_at"]
    assert first is not None and second == first


async def test_rotation_keeps_the_old_secret_for_the_overlap_then_refuses_it(client, staff):
    admin = staff("admin")
    integration = await create(client, admin)
    old = integration["secret"]
    rotated = await client.post(
        f"{API}/{integration['id']}/rotate", json={"overlap_hours": 2 / 3600}, headers=admin.headers
    )
    assert rotated.status_code == 200, rotated.text
    assert rotated.headers["cache-control"] == "no-store"
    new = rotated.json()["secret"]
    assert new != old and new.startswith("sbdms_")
    [retiring] = rotated.json()["retiring_secrets"]
    assert retiring["hint"] == old[:10] + "…" and retiring["valid_until"]

    # During the overlap both work: the integrator switches without losing an event.
    assert await send_event(client, old) == 202
    assert await send_event(client, new) == 202
    await asyncio.sleep(2.5)
    assert await send_event(client, old) == 401
    assert await send_event(client, new) == 202
    after = (await client.get(f"{API}/{integration['id']}", headers=admin.headers)).json()
    assert after["retiring_secrets"] == []
    assert after["current_secret"]["hint"] == new[:10] + "…"


async def test_rotation_overlap_defaults_to_a_day_and_zero_ends_it_at_once(client, staff):
    admin = staff("admin")
    integration = await create(client, admin)
    first = integration["secret"]
    rotated = (await client.post(f"{API}/{integration['id']}/rotate", headers=admin.headers)).json()
    [retiring] = rotated["retiring_secrets"]
    until = datetime.fromisoformat(retiring["valid_until"])
    created = datetime.fromisoformat(rotated["current_secret"]["created_at"])
    assert abs(until - created - timedelta(hours=24)) < timedelta(minutes=1)
    assert await send_event(client, first) == 202

    # The secret leaked: a rotation without overlap refuses every secret in use at once.
    leaked = await client.post(
        f"{API}/{integration['id']}/rotate", json={"overlap_hours": 0}, headers=admin.headers
    )
    latest = leaked.json()["secret"]
    assert await send_event(client, first) == 401
    assert await send_event(client, rotated["secret"]) == 401
    assert await send_event(client, latest) == 202

    for bad in ({"overlap_hours": -1}, {"overlap_hours": 24 * 8}, {"overlap_hours": "soon"}, {"x": 1}):
        refused = await client.post(f"{API}/{integration['id']}/rotate", json=bad, headers=admin.headers)
        assert refused.status_code == 422, (bad, refused.text)
    assert await send_event(client, latest) == 202


async def test_a_revoked_secret_is_refused_and_nothing_is_stored(client, staff, sessions):
    admin = staff("admin")
    integration = await create(client, admin)
    secret = integration["secret"]
    assert await send_event(client, secret, type="nope") == 422  # kept as a rejection
    assert await rejections_of(sessions, integration["id"]) == 1

    revoked = await client.post(f"{API}/{integration['id']}/revoke", headers=admin.headers)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "revoked" and revoked.json()["revoked_at"]
    assert revoked.json()["current_secret"] is None

    response = await client.post(EVENTS, json=payment(type="nope"), headers=bearer(secret))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert await send_event(client, secret) == 401
    assert await rejections_of(sessions, integration["id"]) == 1
    assert (await client.get("/api/v1/dms/rejections", headers=bearer(secret))).status_code == 401

    again = await client.post(f"{API}/{integration['id']}/revoke", headers=admin.headers)
    assert again.status_code == 200 and again.json()["revoked_at"] == revoked.json()["revoked_at"]
    rotate = await client.post(f"{API}/{integration['id']}/rotate", headers=admin.headers)
    assert rotate.status_code == 409 and rotate.json()["error"]["code"] == "integration_revoked"
    assert await send_event(client, secret) == 401
    # Still listed (nothing is deleted), after the active ones; its name is free again.
    replacement = await create(client, admin)
    listed = (await client.get(API, headers=admin.headers)).json()
    assert [(i["id"], i["status"]) for i in listed] == [
        (replacement["id"], "active"),
        (integration["id"], "revoked"),
    ]


async def test_names_are_checked_and_unique_among_active_integrations(client, staff):
    admin = staff("admin")
    await create(client, admin, "Reynolds")
    taken = await client.post(API, json={"name": "reynolds"}, headers=admin.headers)
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "name_taken"
    for bad in ({"name": ""}, {"name": "   "}, {"name": "x" * 101}, {"name": "a\x00b"}, {}, {"name": 3}):
        refused = await client.post(API, json=bad, headers=admin.headers)
        assert refused.status_code == 422, (bad, refused.text)
        assert "error" in refused.json()
    # Another dealership may use the same name.
    await create(client, staff("admin"), "Reynolds")
    assert len((await client.get(API, headers=admin.headers)).json()) == 1


async def test_agents_and_strangers_are_refused(client, staff):
    admin = staff("admin")
    integration = await create(client, admin)
    agent = staff("agent", admin.account_id)
    for method, path in (
        ("GET", API),
        ("POST", API),
        ("GET", f"{API}/{integration['id']}"),
        ("POST", f"{API}/{integration['id']}/rotate"),
        ("POST", f"{API}/{integration['id']}/revoke"),
    ):
        kwargs = {"json": {"name": "Mine"}} if path == API and method == "POST" else {}
        as_agent = await client.request(method, path, headers=agent.headers, **kwargs)
        assert as_agent.status_code == 403, (method, path, as_agent.text)
        anonymous = await client.request(method, path, **kwargs)
        assert anonymous.status_code == 401, (method, path)
        # The integration's own secret is not a staff token.
        with_secret = await client.request(method, path, headers=bearer(integration["secret"]), **kwargs)
        assert with_secret.status_code == 401, (method, path)
    assert await send_event(client, integration["secret"]) == 202  # nothing changed


@pytest.mark.parametrize("action", ["get", "rotate", "revoke"])
async def test_another_accounts_integration_is_not_found(client, staff, action):
    owner, stranger = staff("admin"), staff("admin")
    integration = await create(client, owner)
    path = f"{API}/{integration['id']}" + ("" if action == "get" else f"/{action}")
    response = await client.request("GET" if action == "get" else "POST", path, headers=stranger.headers)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert (await client.get(API, headers=stranger.headers)).json() == []
    assert await send_event(client, integration["secret"]) == 202
    unknown = await client.get(f"{API}/{uuid.uuid4()}", headers=owner.headers)
    assert unknown.status_code == 404
    malformed = await client.get(f"{API}/not-an-id", headers=owner.headers)
    assert malformed.status_code == 422
