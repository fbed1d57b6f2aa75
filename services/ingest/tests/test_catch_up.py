"""Catch-up against the carrier simulator's read APIs (in-process, the same shapes as Twilio's
message list and Telnyx's detail records + messages): texts whose webhooks never reached ingest
are published once, through the same dedupe as webhooks, with the customer's send time; a 429 /
5xx loses nothing; revoked credentials show on the dealership's carrier settings; a text to a
number no longer the dealership's is rejected with the reason; a text sent without a status
callback has its final status fetched. The tests drive the cycles, not a timer."""

import dataclasses
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from devtools.carrier_simulator.__main__ import create_app as create_simulator
from devtools.carrier_simulator.send_api import SimulatorConfig, SimulatorState
from devtools.carrier_simulator.twilio import inbound_sms_form, sign
from ingest import catch_up_repository as repo
from ingest.app import create_app
from ingest.carriers.apis import CarrierApis
from ingest.usecases.catch_up import CatchUpDeps, catch_up_number, run_inbound_cycle
from ingest.usecases.outbound_check import note_outbound_status, run_outbound_cycle
from shared.contracts.messaging import OutboundStatusChanged

from .conftest import BASE_URL, new_number

SIM = "http://carrier-simulator.test"
CUSTOMER = "+14385550199"
API = "/api/v1/carrier-webhook-credentials"


@pytest.fixture
async def simulator() -> AsyncIterator[tuple[SimulatorState, httpx.AsyncClient]]:
    # Its webhooks go to a port nobody listens on: ingest is down as far as the carriers know.
    state = SimulatorState(SimulatorConfig(callback_delay_seconds=0.0))
    app = create_simulator("http://127.0.0.1:9", state)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SIM) as client:
        yield state, client


@pytest.fixture
def deps(ingest_app: FastAPI, kafka, simulator) -> CatchUpDeps:
    base: CatchUpDeps = ingest_app.state.catch_up
    settings = base.settings.model_copy(
        update={
            "catch_up_numbers_per_cycle": 10_000,
            "catch_up_page_size": 2,
            "outbound_status_after_seconds": 0,
        }
    )
    return dataclasses.replace(base, apis=CarrierApis(simulator[1], SIM, SIM), settings=settings)


@pytest.fixture
async def numbers(sessions, twilio_account, telnyx_account):
    """Both test accounts' numbers registered for catch-up, with a Telnyx API key."""
    async with sessions.begin() as session:
        await repo.register_number(session, twilio_account.account_id, twilio_account.number, "twilio")
        await repo.register_number(session, telnyx_account.account_id, telnyx_account.number, "telnyx")
        await repo.set_telnyx_api_key(session, telnyx_account.account_id, f"KEY{secrets.token_hex(12)}")
    return twilio_account, telnyx_account


async def text_twilio(client: httpx.AsyncClient, account, body: str) -> str:
    answer = await client.post(
        "/simulate/sms",
        json={
            "from": CUSTOMER,
            "to": account.number,
            "body": body,
            "account_sid": account.account_sid,
            "auth_token": account.auth_token,
        },
    )
    assert answer.json()["ingest_status"] is None  # nobody answered: Twilio will not retry
    return answer.json()["message_sid"]


async def text_telnyx(client: httpx.AsyncClient, account, body: str) -> str:
    answer = await client.post(
        "/simulate/telnyx",
        json={"from": CUSTOMER, "to": account.number, "body": body, "private_key": account.private_key},
    )
    return answer.json()["message_id"]


async def state_of(sessions, e164: str):
    async with sessions() as session:
        return (
            await session.execute(text("SELECT * FROM ingest.catch_up_numbers WHERE e164 = :e"), {"e": e164})
        ).one()


async def make_due(sessions, e164: str, only: bool = False) -> None:
    async with sessions.begin() as session:
        if only:  # the other numbers wait: an injected failure then meets this one
            await session.execute(
                text("UPDATE ingest.catch_up_numbers SET next_run_at = now() + interval '1 hour'")
            )
        await session.execute(
            text("UPDATE ingest.catch_up_numbers SET next_run_at = now() WHERE e164 = :e"), {"e": e164}
        )


async def counted(sessions, message_ids: list[str]) -> dict[str, datetime]:
    """The send time usage counted each of these texts with (one row per text at most)."""
    async with sessions() as session:
        rows = await session.execute(
            text("SELECT message_id, received_at FROM ingest.usage_texts_in WHERE message_id = ANY(:ids)"),
            {"ids": message_ids},
        )
    return {row.message_id: row.received_at for row in rows}


def inbound(kafka, message_id: str) -> list[dict]:
    return [
        v
        for name, v in kafka.records
        if name == "carrier.inbound.v1" and v["carrier_message_id"] == message_id
    ]


async def test_texts_missed_on_both_carriers_are_published_once_with_the_send_time(
    deps, simulator, numbers, kafka, client, sessions
):
    twilio, telnyx = numbers
    _, sim = simulator
    before = datetime.now(UTC).replace(microsecond=0)  # Twilio's times are whole seconds
    missed = [await text_twilio(sim, twilio, f"twilio {n}") for n in range(3)]
    missed += [await text_telnyx(sim, telnyx, f"telnyx {n}") for n in range(3)]
    # One text also arrives by webhook (the carrier retried, or ingest was back in time).
    both_ways = await text_twilio(sim, twilio, "both ways")
    form = {
        **inbound_sms_form(twilio.account_sid, CUSTOMER, twilio.number, "both ways"),
        "MessageSid": both_ways,
    }
    url = f"{BASE_URL}/webhooks/twilio/sms"
    webhook = await client.post(
        url, data=form, headers={"X-Twilio-Signature": sign(twilio.auth_token, url, form)}
    )
    assert webhook.status_code == 200

    report = await run_inbound_cycle(deps)
    assert (report.recovered("twilio"), report.recovered("telnyx")) == (3, 3)  # pages of 2: paging works
    for message_id in [*missed, both_ways]:
        await kafka.wait_for("carrier.inbound.v1", lambda v, m=message_id: v["carrier_message_id"] == m)
    await kafka.all("carrier.inbound.v1", lambda v: True, settle=1.0)
    assert all(len(inbound(kafka, m)) == 1 for m in [*missed, both_ways])
    recovered = inbound(kafka, missed[0])[0]
    # The customer's send time at the carrier, not the time catch-up found it.
    assert before <= datetime.fromisoformat(recovered["received_at"]) <= datetime.now(UTC)
    assert recovered["raw"]["switchboard_source"] == "catch_up"
    assert recovered["account_id"] == str(twilio.account_id) and recovered["to_number"] == twilio.number
    assert inbound(kafka, missed[3])[0]["body"] == "telnyx 0"
    # Sent within one second: still in the order the customer sent them.
    times = [datetime.fromisoformat(inbound(kafka, m)[0]["received_at"]) for m in missed[:3]]
    assert times == sorted(times) and len(set(times)) == 3

    # Counted for billing once each, in the month the customer sent it; the text that came both
    # ways once, by the webhook that claimed it first.
    assert await counted(sessions, [*missed, both_ways]) == {
        m: datetime.fromisoformat(inbound(kafka, m)[0]["received_at"]) for m in [*missed, both_ways]
    }

    state = await state_of(sessions, twilio.number)
    assert state.checkpoint is not None and state.last_error is None
    # Due again (the interval passed): an idle cycle lists the overlap again and publishes nothing.
    await make_due(sessions, twilio.number)
    await make_due(sessions, telnyx.number)
    again = await run_inbound_cycle(deps)
    assert again.recovered("twilio") == again.recovered("telnyx") == 0
    assert len(await counted(sessions, [*missed, both_ways])) == 7


async def test_a_rate_limited_or_failing_carrier_loses_nothing(deps, simulator, numbers, kafka, sessions):
    twilio, _ = numbers
    state, sim = simulator
    missed = await text_twilio(sim, twilio, "during a 429")
    await make_due(sessions, twilio.number, only=True)
    state.read_failures[:] = [429]
    first = await run_inbound_cycle(deps)
    failed = await state_of(sessions, twilio.number)
    assert "429" in failed.last_error and failed.failures == 1 and failed.checkpoint is None
    assert failed.next_run_at > datetime.now(UTC)  # backs off instead of hammering the carrier
    assert not [n for n in first.numbers if n.e164 == twilio.number and n.recovered]

    state.read_failures[:] = [503]
    await make_due(sessions, twilio.number, only=True)
    await run_inbound_cycle(deps)
    assert (await state_of(sessions, twilio.number)).failures == 2

    await make_due(sessions, twilio.number)
    await run_inbound_cycle(deps)
    await kafka.wait_for("carrier.inbound.v1", lambda v: v["carrier_message_id"] == missed)
    healed = await state_of(sessions, twilio.number)
    assert healed.failures == 0 and healed.last_error is None and healed.checkpoint is not None


async def test_revoked_credentials_show_on_the_carrier_settings_and_in_a_metric(
    deps, simulator, numbers, client, staff
):
    twilio, _ = numbers
    state, _ = simulator
    state.revoked = {twilio.account_sid}
    failures = deps.metrics.failures.labels("twilio", "credentials_rejected")
    before = failures._value.get()
    await run_inbound_cycle(deps)  # no exception: other dealerships go on
    assert failures._value.get() == before + 1
    admin = staff("admin", account_id=twilio.account_id)
    [view] = (await client.get(API, headers=admin.headers)).json()
    assert "refused the credentials" in view["last_catch_up_error"]
    assert view["catch_up"][0]["number"] == twilio.number and view["catch_up"][0]["last_error_at"]


async def test_a_text_to_a_number_no_longer_the_dealerships_is_rejected_with_the_reason(
    deps, simulator, numbers, kafka, sessions
):
    twilio, _ = numbers
    _, sim = simulator
    missed = await text_twilio(sim, twilio, "to a number that just left")
    async with sessions.begin() as session:
        [due] = [n for n in await repo.claim_due_numbers(session, 60, 10_000) if n.e164 == twilio.number]
        # routing removed the number from the dealership while the cycle held it.
        await repo.forget_number(session, twilio.account_id, twilio.number)
    outcome = await catch_up_number(deps, due)
    assert outcome.rejected == 1 and outcome.recovered == 0
    rejected = await kafka.wait_for("carrier.rejected.v1", lambda v: missed in v["payload"])
    assert "no longer a number of account" in rejected["reason"] and rejected["source"] == "twilio.catch_up"
    assert inbound(kafka, missed) == []


@pytest.mark.parametrize("carrier", ["twilio", "telnyx"])
async def test_a_text_sent_without_a_status_callback_has_its_final_status_fetched(
    deps, simulator, numbers, kafka, sessions, carrier
):
    twilio, telnyx = numbers
    _, sim = simulator
    account = twilio if carrier == "twilio" else telnyx
    to_number = new_number()
    if carrier == "twilio":  # no StatusCallback: no receipt will ever be posted
        sent = await sim.post(
            f"/2010-04-01/Accounts/{twilio.account_sid}/Messages.json",
            data={"To": to_number, "From": twilio.number, "Body": "Your car is ready"},
            auth=(twilio.account_sid, twilio.auth_token),
        )
        message_id = sent.json()["sid"]
    else:
        sent = await sim.post(
            "/v2/messages",
            json={"from": telnyx.number, "to": to_number, "text": "Your car is ready"},
            headers={"authorization": "Bearer KEY-anything"},
        )
        message_id = sent.json()["data"]["id"]
    report = OutboundStatusChanged(
        account_id=account.account_id,
        message_id=__import__("uuid").uuid4(),
        status="sent",
        carrier=carrier,
        carrier_message_id=message_id,
        to_number=to_number,
    )
    async with sessions.begin() as session:
        await note_outbound_status(session, report, check_after=0)
        await note_outbound_status(session, report, check_after=0)  # Kafka redelivers: one row
    assert await run_outbound_cycle(deps) >= 1
    status = await kafka.wait_for("carrier.status.v1", lambda v: v["carrier_message_id"] == message_id)
    assert status["status"] == "delivered" and status["raw"]["switchboard_source"] == "catch_up"
    await run_outbound_cycle(deps)  # nothing left to ask about this one
    statuses = await kafka.all(
        "carrier.status.v1", lambda v: v["carrier_message_id"] == message_id, settle=0.5
    )
    assert len(statuses) == 1


async def test_a_dependency_down_is_503_with_retry_after_never_500(ingest_settings, twilio_account):
    down = ingest_settings.model_copy(
        update={"database_url": "postgresql+asyncpg://nobody:x@127.0.0.1:9/none"}
    )
    app = create_app(down)
    form = inbound_sms_form(
        twilio_account.account_sid, CUSTOMER, twilio_account.number, "while the db is down"
    )
    url = f"{BASE_URL}/webhooks/twilio/sms"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as http:
        webhook = await http.post(url, data=form, headers={"X-Twilio-Signature": sign("x", url, form)})
        dms = await http.post(
            "/api/v1/dms/events", json={"events": []}, headers={"authorization": "Bearer some-secret"}
        )
    for response in (webhook, dms):
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"].isdigit()
        assert response.json()["error"]["code"] == "unavailable"
