"""The admin API for the credentials ingest verifies webhooks with, through the real app on real
Postgres and Kafka, staff checked against a routing stand-in over HTTP: what an admin sets is
what webhooks are checked against (at once on this replica, its cache notwithstanding), secrets
never come back, and an account only ever touches its own rows."""

import base64
import contextlib
import logging
import secrets
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from twilio.request_validator import RequestValidator

from devtools.carrier_simulator.telnyx import encode, new_key_pair, received_event, signed_headers
from devtools.carrier_simulator.twilio import inbound_sms_form
from ingest.api.carrier_accounts import TwilioWebhookCredentials
from ingest.app import create_app
from ingest.settings import IngestSettings
from ingest.usecases.phone_numbers import NumberOutcome, apply_number_change
from shared.contracts.phone_numbers import PhoneNumberChanged
from shared.http.auth import issue_token
from shared.testing.topic_prefixes import new_topic_prefix

BASE_URL = "https://ingest.example.test"
SMS_URL = f"{BASE_URL}/webhooks/twilio/sms"
API = "/api/v1/carrier-webhook-credentials"
CUSTOMER = "+14385550166"


def new_sid() -> str:
    return f"AC{secrets.token_hex(16)}"


def new_number() -> str:
    return f"+1819{secrets.randbelow(10**7):07d}"


@pytest.fixture(scope="module")
async def cached(ingest_settings: IngestSettings, staff_directory_server) -> AsyncIterator[httpx.AsyncClient]:
    """The app as deployed: credentials cached for minutes (the shared fixture caches nothing),
    so a change that is seen at once proves the API dropped the cached entry."""
    settings = ingest_settings.model_copy(
        update={"credentials_cache_seconds": 600.0, "kafka_topic_prefix": new_topic_prefix("tic")}
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client,
    ):
        yield client
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        ours = [t for t in await admin.list_topics() if t.startswith(settings.kafka_topic_prefix)]
        with contextlib.suppress(Exception):
            await admin.delete_topics(ours)
    finally:
        await admin.close()


async def twilio_webhook(client: httpx.AsyncClient, account_sid: str, token: str) -> int:
    form = inbound_sms_form(account_sid, CUSTOMER, "+15145550100", "Is my car ready?")
    signature = RequestValidator(token).compute_signature(SMS_URL, form)
    response = await client.post(SMS_URL, data=form, headers={"X-Twilio-Signature": signature})
    return response.status_code


async def telnyx_webhook(client: httpx.AsyncClient, private_key: str, number: str) -> int:
    body = encode(received_event(CUSTOMER, number, "hello"))
    response = await client.post("/webhooks/telnyx", content=body, headers=signed_headers(private_key, body))
    return response.status_code


async def test_webhooks_are_checked_with_the_token_the_admin_set_at_once(cached, staff, caplog):
    caplog.set_level(logging.INFO)
    admin = staff("admin")
    sid, old, new = new_sid(), secrets.token_hex(16), secrets.token_hex(16)

    put = await cached.put(
        f"{API}/twilio", headers=admin.headers, json={"account_sid": sid, "auth_token": old}
    )
    assert put.status_code == 200, put.text
    assert await twilio_webhook(cached, sid, old) == 200  # now cached for ten minutes

    put = await cached.put(
        f"{API}/twilio", headers=admin.headers, json={"account_sid": sid, "auth_token": new}
    )
    assert put.status_code == 200, put.text
    assert put.json() | {"updated_at": None} == {
        "carrier": "twilio",
        "account_sid": sid,
        "secret_hint": f"••••{new[-4:]}",
        "public_key": None,
        "numbers": [],
        "api_key_hint": None,
        "last_catch_up_error": None,
        "catch_up": [],
        "updated_at": None,
    }
    assert await twilio_webhook(cached, sid, new) == 200
    assert await twilio_webhook(cached, sid, old) == 403

    assert "carrier webhook credentials changed" in caplog.text
    assert old not in caplog.text and new not in caplog.text
    assert new not in repr(TwilioWebhookCredentials(account_sid=sid, auth_token=new))


async def test_a_new_account_sid_replaces_the_old_one_and_delete_refuses_both(cached, staff):
    admin = staff("admin")
    first, second, token = new_sid(), new_sid(), secrets.token_hex(16)
    for sid in (first, second):
        put = await cached.put(
            f"{API}/twilio", headers=admin.headers, json={"account_sid": sid, "auth_token": token}
        )
        assert put.status_code == 200, put.text
        assert await twilio_webhook(cached, sid, token) == 200
    assert await twilio_webhook(cached, first, token) == 403
    listed = (await cached.get(API, headers=admin.headers)).json()
    assert [(item["carrier"], item["account_sid"]) for item in listed] == [("twilio", second)]

    assert (await cached.delete(f"{API}/twilio", headers=admin.headers)).status_code == 204
    assert await twilio_webhook(cached, second, token) == 403
    assert (await cached.get(API, headers=admin.headers)).json() == []
    again = await cached.delete(f"{API}/twilio", headers=admin.headers)
    assert (again.status_code, again.json()["error"]["code"]) == (404, "not_found")


async def test_an_account_sid_of_another_dealership_is_refused_not_moved(client, staff):
    owner, intruder = staff("admin"), staff("admin")
    sid, token = new_sid(), secrets.token_hex(16)
    put = await client.put(
        f"{API}/twilio", headers=owner.headers, json={"account_sid": sid, "auth_token": token}
    )
    assert put.status_code == 200, put.text

    taken = await client.put(
        f"{API}/twilio",
        headers=intruder.headers,
        json={"account_sid": sid, "auth_token": secrets.token_hex(16)},
    )
    assert (taken.status_code, taken.json()["error"]["code"]) == (409, "account_sid_taken")
    assert (await client.get(API, headers=intruder.headers)).json() == []
    assert (await client.delete(f"{API}/twilio", headers=intruder.headers)).status_code == 404
    # Still the owner's, with the owner's token.
    assert await twilio_webhook(client, sid, token) == 200
    [listed] = (await client.get(API, headers=owner.headers)).json()
    assert listed["account_sid"] == sid


async def test_only_an_admin_of_the_account_as_routing_knows_them_gets_in(client, staff, staff_directory):
    body = {"account_sid": new_sid(), "auth_token": secrets.token_hex(16)}
    agent = staff("agent")
    for method, path in (("GET", API), ("PUT", f"{API}/twilio"), ("DELETE", f"{API}/twilio")):
        response = await client.request(
            method, path, headers=agent.headers, json=body if method == "PUT" else None
        )
        assert (response.status_code, response.json()["error"]["code"]) == (403, "forbidden"), (method, path)

    # An admin's token, but routing says they are an agent now.
    demoted = staff("admin")
    staff_directory.users[demoted.user_id] = {"role": "agent", "active": True}
    assert (await client.put(f"{API}/twilio", headers=demoted.headers, json=body)).status_code == 403
    deactivated = staff("admin")
    staff_directory.users[deactivated.user_id] = {"role": "admin", "active": False}
    assert (await client.get(API, headers=deactivated.headers)).status_code == 401

    service = issue_token(deactivated.settings, "routing", uuid.uuid4(), "service")
    assert (await client.get(API, headers={"authorization": f"Bearer {service}"})).status_code == 403
    assert (await client.get(API)).status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"account_sid": "AC123", "auth_token": "a" * 32}, "account_sid"),
        ({"account_sid": "SK" + "0" * 32, "auth_token": "a" * 32}, "account_sid"),
        ({"account_sid": "AC" + "g" * 32, "auth_token": "a" * 32}, "account_sid"),
        ({"account_sid": "AC" + "0" * 32, "auth_token": "short-secret"}, "auth_token"),
        ({"account_sid": "AC" + "0" * 32, "auth_token": "has a space in the middle of it"}, "auth_token"),
        ({"account_sid": "AC" + "0" * 32}, "auth_token"),
        ({"account_sid": "AC" + "0" * 32, "auth_token": "a" * 32, "extra": 1}, "extra"),
    ],
)
async def test_bad_twilio_credentials_get_a_clear_422_without_the_secret(client, staff, body, field):
    admin = staff("admin")
    response = await client.put(f"{API}/twilio", headers=admin.headers, json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert [detail["loc"][-1] for detail in error["details"]] == [field]
    if "auth_token" in body:
        assert body["auth_token"] not in response.text


async def test_a_sid_in_upper_case_hex_is_stored_as_twilio_writes_it(client, staff):
    admin = staff("admin")
    sid = new_sid()
    response = await client.put(
        f"{API}/twilio", headers=admin.headers, json={"account_sid": sid.upper(), "auth_token": "x" * 32}
    )
    assert (response.status_code, response.json()["account_sid"]) == (200, sid)


@pytest.mark.parametrize(
    "public_key",
    [
        "not base64!",
        base64.b64encode(b"\x01" * 31).decode(),  # 31 bytes
        base64.b64encode(bytes([1] + [0] * 31)).decode(),  # the identity point: checks nothing
        "MCowBQYDK2VwAyEA" + base64.b64encode(b"\x02" * 32).decode(),  # DER-wrapped, not the raw key
    ],
)
async def test_a_telnyx_key_that_is_no_ed25519_public_key_is_422(client, staff, public_key):
    admin = staff("admin")
    response = await client.put(f"{API}/telnyx", headers=admin.headers, json={"public_key": public_key})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["loc"][-1] == "public_key"


async def test_telnyx_numbers_announced_before_the_key_verify_once_it_is_set(cached, staff, sessions):
    admin = staff("admin")
    private, public = new_key_pair()
    number = new_number()
    async with sessions.begin() as session:
        announced = PhoneNumberChanged(
            account_id=admin.account_id, e164=number, carrier="telnyx", change="added"
        )
        assert await apply_number_change(session, announced) is NumberOutcome.NO_KEY
    assert await telnyx_webhook(cached, private, number) == 403  # no key: refused (and that is cached)

    put = await cached.put(f"{API}/telnyx", headers=admin.headers, json={"public_key": public})
    assert put.status_code == 200, put.text
    assert put.json() | {"updated_at": None} == {
        "carrier": "telnyx",
        "account_sid": None,
        "secret_hint": None,
        "public_key": public,
        "numbers": [number],
        "api_key_hint": None,
        "last_catch_up_error": None,
        # Catch-up lists the number too, once the key comes with an API key (none yet).
        "catch_up": [
            {
                "number": number,
                "checkpoint": None,
                "last_success_at": None,
                "last_error": None,
                "last_error_at": None,
            }
        ],
        "updated_at": None,
    }
    assert await telnyx_webhook(cached, private, number) == 200

    # A new key pair: the old private key no longer signs for the number.
    new_private, new_public = new_key_pair()
    assert (
        await cached.put(f"{API}/telnyx", headers=admin.headers, json={"public_key": new_public})
    ).status_code == 200
    assert await telnyx_webhook(cached, private, number) == 403
    assert await telnyx_webhook(cached, new_private, number) == 200

    assert (await cached.delete(f"{API}/telnyx", headers=admin.headers)).status_code == 204
    assert await telnyx_webhook(cached, new_private, number) == 403
    # The number is still known: setting the key again is enough.
    assert (
        await cached.put(f"{API}/telnyx", headers=admin.headers, json={"public_key": new_public})
    ).status_code == 200
    assert await telnyx_webhook(cached, new_private, number) == 200


async def test_another_account_sees_nothing_of_a_telnyx_key(client, staff, telnyx_account):
    admin_here = staff("admin", telnyx_account.account_id)
    [listed] = (await client.get(API, headers=admin_here.headers)).json()
    assert (listed["carrier"], listed["numbers"]) == ("telnyx", [telnyx_account.number])
    other = staff("admin")
    assert (await client.get(API, headers=other.headers)).json() == []
    assert (await client.delete(f"{API}/telnyx", headers=other.headers)).status_code == 404
    assert await telnyx_webhook(client, telnyx_account.private_key, telnyx_account.number) == 200
