"""The admin API for the credentials notifier sends texts with, on real PostgreSQL and Kafka,
staff checked against the real routing (conftest), texts sent to the carrier simulator as a real
HTTP server that only accepts the credentials it was told: what an admin sets is what the next
text goes out with (at once on this replica, its adapter cache notwithstanding), secrets never
come back, and an account only ever touches its own rows."""

import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from uuid import UUID, uuid4

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import text

from devtools.carrier_simulator.__main__ import create_app as create_simulator
from devtools.carrier_simulator.send_api import SimulatorConfig, SimulatorState
from notifier.api.carrier_accounts import (
    TelnyxSendingCredentials,
    TwilioSendingCredentials,
    carrier_accounts_router,
)
from notifier.app import create_app
from notifier.outbound.carriers.account_check import check_account
from notifier.outbound.credentials import CarrierCredentials
from notifier.outbound.wiring import OutboundSending, build_outbound_sending
from notifier.settings import NotifierSettings
from shared.contracts.messaging import OutboundRequested
from shared.http.auth import issue_token
from shared.http.errors import install_error_handlers
from shared.http.staff import CurrentStaffAuthenticated, RoutingStaffDirectory
from shared.kafka.topics import ensure_topics
from shared.service import Infrastructure, build_infrastructure
from shared.testing.http_server import serving
from shared.testing.topic_prefixes import new_topic_prefix

API = "/api/v1/carrier-accounts"


@dataclass
class Rig:
    api: httpx.AsyncClient
    sending: OutboundSending
    infra: Infrastructure
    carrier: SimulatorState


@pytest.fixture(scope="module")
async def rig(settings: NotifierSettings, routing) -> AsyncIterator[Rig]:
    """The API router as app.py wires it, and the sender, sharing one database, with carrier
    adapters cached for ten minutes: a change seen at once proves the API dropped the entry."""
    carrier = SimulatorState(
        SimulatorConfig(callbacks_enabled=False, twilio_auth_tokens={}, telnyx_api_keys=set())
    )
    async with serving(create_simulator("http://127.0.0.1:9", carrier)) as simulator_url:
        ours = settings.model_copy(
            update={
                "kafka_topic_prefix": new_topic_prefix("tnc"),
                "twilio_api_base_url": simulator_url,
                "telnyx_api_base_url": simulator_url,
                "carrier_callback_base_url": "http://ingest.test",
                "carrier_timeout_seconds": 2.0,
                "carrier_credentials_cache_seconds": 600.0,
                "outbound_retry_attempts": 2,
                "outbound_retry_initial_seconds": 0.05,
                "outbound_retry_max_seconds": 0.1,
            }
        )
        infra = build_infrastructure(ours)
        await ensure_topics(ours)
        sending = build_outbound_sending(infra, ours)
        await infra.broker.start()
        staff_http = httpx.AsyncClient(timeout=5)
        app = FastAPI()
        install_error_handlers(app)
        current_staff = CurrentStaffAuthenticated(
            ours, RoutingStaffDirectory(ours, staff_http, ours.routing_url)
        )
        app.include_router(carrier_accounts_router(infra.sessions, current_staff, sending.adapters))
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://notifier") as api:
                yield Rig(api, sending, infra, carrier)
        finally:
            await infra.broker.stop()
            await staff_http.aclose()
            await sending.http.aclose()
            await infra.engine.dispose()
            admin = AIOKafkaAdminClient(bootstrap_servers=ours.kafka_bootstrap_servers)
            await admin.start()
            try:
                topics = [t for t in await admin.list_topics() if t.startswith(ours.kafka_topic_prefix)]
                with contextlib.suppress(Exception):
                    await admin.delete_topics(topics)
            finally:
                await admin.close()


def new_sid() -> str:
    return f"AC{secrets.token_hex(16)}"


def number() -> str:
    return f"+1514{secrets.randbelow(800) + 200}{secrets.randbelow(9000) + 1000}"


def customer() -> str:
    return f"+1438{secrets.randbelow(800) + 200}5555"  # 5555: the simulator just accepts it


async def send(rig: Rig, account_id: UUID, carrier: str) -> tuple[str, str | None]:
    """Sends one staff reply; its (status, error code) as recorded."""
    request = OutboundRequested(
        account_id=account_id,
        message_id=uuid4(),
        conversation_id=uuid4(),
        customer_id=uuid4(),
        carrier=carrier,
        from_number=number(),
        to_number=customer(),
        body="Your car is ready",
        source_kind="manual",
    )
    await rig.sending.sender.handle(request)
    async with rig.infra.sessions() as session:
        row = (
            await session.execute(
                text("SELECT status, error_code FROM notifier.outbound_messages WHERE message_id = :id"),
                {"id": request.message_id},
            )
        ).one()
    return row.status, row.error_code


async def test_texts_go_out_with_the_twilio_token_the_admin_set_at_once(rig, dealer, caplog):
    caplog.set_level(logging.INFO)
    admin = dealer.headers("alex")
    sid, old, new = new_sid(), secrets.token_hex(16), secrets.token_hex(16)
    rig.carrier.config.twilio_auth_tokens[sid] = old
    assert await send(rig, dealer.account_id, "twilio") == ("failed", "no_credentials")

    put = await rig.api.put(f"{API}/twilio", headers=admin, json={"account_sid": sid, "auth_token": old})
    assert put.status_code == 200, put.text
    assert await send(rig, dealer.account_id, "twilio") == ("sent", None)  # the adapter is cached now

    rig.carrier.config.twilio_auth_tokens[sid] = new  # rotated at Twilio
    put = await rig.api.put(f"{API}/twilio", headers=admin, json={"account_sid": sid, "auth_token": new})
    assert put.status_code == 200, put.text
    assert put.json() | {"updated_at": None} == {
        "carrier": "twilio",
        "account_sid": sid,
        "secret_hint": f"••••{new[-4:]}",
        "messaging_profile_id": None,
        "updated_at": None,
    }
    assert await send(rig, dealer.account_id, "twilio") == ("sent", None)

    listed = await rig.api.get(API, headers=admin)
    assert listed.status_code == 200
    assert [(item["carrier"], item["account_sid"]) for item in listed.json()] == [("twilio", sid)]
    for secret in (old, new):
        assert secret not in listed.text and secret not in put.text and secret not in caplog.text
    assert "carrier sending credentials changed" in caplog.text

    assert (await rig.api.delete(f"{API}/twilio", headers=admin)).status_code == 204
    assert await send(rig, dealer.account_id, "twilio") == ("failed", "no_credentials")
    assert (await rig.api.get(API, headers=admin)).json() == []


async def test_texts_go_out_with_the_telnyx_key_the_admin_set(rig, dealer):
    admin = dealer.headers("alex")
    key = "KEY" + secrets.token_hex(20)
    rig.carrier.config.telnyx_api_keys.add(key)
    profile = str(uuid4())
    put = await rig.api.put(
        f"{API}/telnyx", headers=admin, json={"api_key": key, "messaging_profile_id": profile}
    )
    assert put.status_code == 200, put.text
    assert (put.json()["secret_hint"], put.json()["messaging_profile_id"]) == (f"••••{key[-4:]}", profile)
    assert key not in put.text
    assert await send(rig, dealer.account_id, "telnyx") == ("sent", None)

    # A key Telnyx does not know: the next text fails at the carrier instead of using the old one.
    wrong = "KEY" + secrets.token_hex(20)
    assert (await rig.api.put(f"{API}/telnyx", headers=admin, json={"api_key": wrong})).status_code == 200
    status, _ = await send(rig, dealer.account_id, "telnyx")
    assert status == "failed"


async def test_an_account_only_sees_and_changes_its_own(rig, dealer, other_dealer):
    sid, token = new_sid(), secrets.token_hex(16)
    put = await rig.api.put(
        f"{API}/twilio", headers=dealer.headers("alex"), json={"account_sid": sid, "auth_token": token}
    )
    assert put.status_code == 200, put.text

    other = other_dealer.headers("alex")
    assert (await rig.api.get(API, headers=other)).json() == []
    taken = await rig.api.put(
        f"{API}/twilio", headers=other, json={"account_sid": sid, "auth_token": secrets.token_hex(16)}
    )
    assert (taken.status_code, taken.json()["error"]["code"]) == (409, "account_sid_taken")
    assert (await rig.api.delete(f"{API}/twilio", headers=other)).status_code == 404
    [mine] = (await rig.api.get(API, headers=dealer.headers("alex"))).json()
    assert (mine["account_sid"], mine["secret_hint"]) == (sid, f"••••{token[-4:]}")


async def test_only_admins_get_in(rig, dealer):
    body = {"account_sid": new_sid(), "auth_token": secrets.token_hex(16)}
    agent = dealer.headers("sam")
    for method, path in (("GET", API), ("PUT", f"{API}/twilio"), ("DELETE", f"{API}/twilio")):
        response = await rig.api.request(method, path, headers=agent, json=body if method == "PUT" else None)
        assert (response.status_code, response.json()["error"]["code"]) == (403, "forbidden"), (method, path)
    # An admin's token for a user routing knows as an agent: routing has the word.
    forged_role = issue_token(dealer.settings, str(dealer.users["sam"]), dealer.account_id, "admin")
    assert (await rig.api.get(API, headers={"authorization": f"Bearer {forged_role}"})).status_code == 403
    service = issue_token(dealer.settings, "routing", dealer.account_id, "service")
    assert (await rig.api.get(API, headers={"authorization": f"Bearer {service}"})).status_code == 403
    assert (await rig.api.get(API)).status_code == 401


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("twilio", {"account_sid": "AC123", "auth_token": "a" * 32}, "account_sid"),
        ("twilio", {"account_sid": "MG" + "0" * 32, "auth_token": "a" * 32}, "account_sid"),
        ("twilio", {"account_sid": "AC" + "0" * 32, "auth_token": "too-short"}, "auth_token"),
        ("twilio", {"auth_token": "a" * 32}, "account_sid"),
        ("telnyx", {"api_key": "KEY with spaces in it, pasted"}, "api_key"),
        (
            "telnyx",
            {"api_key": "KEY" + "0" * 20, "messaging_profile_id": "profile-1"},
            "messaging_profile_id",
        ),
        ("telnyx", {"api_key": "KEY" + "0" * 20, "account_sid": "AC" + "0" * 32}, "account_sid"),
    ],
)
async def test_bad_credentials_get_a_clear_422_without_the_secret(rig, dealer, path, body, field):
    response = await rig.api.put(f"{API}/{path}", headers=dealer.headers("alex"), json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert [detail["loc"][-1] for detail in error["details"]] == [field]
    for secret in (body.get("auth_token"), body.get("api_key")):
        assert secret is None or secret not in response.text


def test_secrets_stay_out_of_reprs():
    token, key = secrets.token_hex(16), "KEY" + secrets.token_hex(16)
    assert token not in repr(TwilioSendingCredentials(account_sid=new_sid(), auth_token=token))
    assert key not in repr(TelnyxSendingCredentials(api_key=key))


def test_the_service_serves_the_api_without_secrets_in_its_answers():
    spec = create_app(NotifierSettings()).openapi()
    assert {"put"} <= set(spec["paths"][f"{API}/twilio"]) and {"get"} <= set(spec["paths"][API])
    view = spec["components"]["schemas"]["CarrierAccountView"]["properties"]
    assert not {"auth_token", "api_key", "secret"} & set(view)


async def test_the_connection_test_asks_the_carrier_with_what_is_stored(rig, dealer):
    admin = dealer.headers("alex")
    assert (await rig.api.delete(f"{API}/twilio", headers=admin)).status_code in (204, 404)
    nothing = await rig.api.post(f"{API}/twilio/test", headers=admin)
    assert (nothing.status_code, nothing.json()["error"]["code"]) == (404, "not_found")

    sid, token = new_sid(), secrets.token_hex(16)
    rig.carrier.config.twilio_auth_tokens[sid] = token
    await rig.api.put(f"{API}/twilio", headers=admin, json={"account_sid": sid, "auth_token": token})
    tested = await rig.api.post(f"{API}/twilio/test", headers=admin)
    assert tested.status_code == 200, tested.text
    assert tested.json() == {
        "ok": True,
        "code": "connected",
        "message": "Twilio accepted the Account SID and auth token",
    }

    rig.carrier.config.twilio_auth_tokens[sid] = secrets.token_hex(16)  # rotated at Twilio
    refused = (await rig.api.post(f"{API}/twilio/test", headers=admin)).json()
    assert (refused["ok"], refused["code"]) == (False, "refused")
    assert token not in refused["message"]


async def test_the_telnyx_connection_test_checks_the_key_and_the_profile(rig, dealer):
    admin, key = dealer.headers("alex"), "KEY" + secrets.token_hex(20)
    rig.carrier.config.telnyx_api_keys.add(key)
    await rig.api.put(f"{API}/telnyx", headers=admin, json={"api_key": key})
    assert (await rig.api.post(f"{API}/telnyx/test", headers=admin)).json()["code"] == "connected"  # balance

    profile = str(uuid4())
    rig.carrier.config.telnyx_messaging_profiles = {profile}
    try:
        await rig.api.put(
            f"{API}/telnyx", headers=admin, json={"api_key": key, "messaging_profile_id": profile}
        )
        assert (await rig.api.post(f"{API}/telnyx/test", headers=admin)).json()["ok"] is True
        other = str(uuid4())
        await rig.api.put(
            f"{API}/telnyx", headers=admin, json={"api_key": key, "messaging_profile_id": other}
        )
        unknown = (await rig.api.post(f"{API}/telnyx/test", headers=admin)).json()
        assert (unknown["ok"], unknown["code"]) == (False, "profile_not_found")
    finally:
        rig.carrier.config.telnyx_messaging_profiles = None

    rig.carrier.revoked.add(key)
    try:
        revoked = (await rig.api.post(f"{API}/telnyx/test", headers=admin)).json()
        assert (revoked["ok"], revoked["code"]) == (False, "refused")
        assert key not in revoked["message"]
    finally:
        rig.carrier.revoked.discard(key)


async def test_only_admins_test_the_connection(rig, dealer):
    agent = await rig.api.post(f"{API}/twilio/test", headers=dealer.headers("sam"))
    assert (agent.status_code, agent.json()["error"]["code"]) == (403, "forbidden")
    assert (await rig.api.post(f"{API}/twilio/test")).status_code == 401


async def test_an_unreachable_carrier_is_a_plain_answer():
    credentials = CarrierCredentials("twilio", SecretStr("x" * 32), new_sid())
    async with httpx.AsyncClient() as client:
        result = await check_account(client, "http://127.0.0.1:9", credentials, 1.0)
    assert (result.ok, result.code) == (False, "unavailable")
