"""The carrier simulator's send side, as a real HTTP server: answers shaped like the real APIs and
status callbacks signed the way each carrier signs them, checked here by independent code (the
twilio package's RequestValidator, an Ed25519 verify key)."""

import asyncio
import base64
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

import httpx
import pytest
from fastapi import FastAPI, Request
from nacl.signing import VerifyKey
from pydantic import SecretStr
from twilio.request_validator import RequestValidator

from devtools import demo
from devtools.carrier_simulator.__main__ import create_app
from devtools.carrier_simulator.send_api import SimulatorConfig, SimulatorState
from devtools.carrier_simulator.telnyx import public_key_of
from notifier.outbound.carriers.base import CarrierError
from notifier.outbound.carriers.telnyx import TelnyxAdapter
from notifier.outbound.carriers.twilio import TwilioAdapter
from shared.testing.http_server import serving

SID = "AC" + "7" * 32
TOKEN = "simulator-test-token"
FROM = "+15145550100"


class Receiver:
    """Stands in for ingest: records every callback with its headers and raw body."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, str], bytes]] = []
        self.app = FastAPI()

        @self.app.post("/webhooks/twilio/status")
        @self.app.post("/webhooks/telnyx")
        async def record(request: Request) -> dict:
            self.calls.append((str(request.url), dict(request.headers), await request.body()))
            return {}

    async def wait(self, count: int, url_part: str, timeout: float = 5.0) -> list:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            found = [c for c in self.calls if url_part in c[0]]
            if len(found) >= count:
                await asyncio.sleep(0.2)  # and no more than that
                return [c for c in self.calls if url_part in c[0]]
            await asyncio.sleep(0.02)
        raise AssertionError(f"{len(self.calls)} callbacks")


@pytest.fixture(scope="module")
def state() -> SimulatorState:
    return SimulatorState(SimulatorConfig(callback_delay_seconds=0.05))


@pytest.fixture(scope="module")
async def urls(state: SimulatorState):
    receiver = Receiver()
    async with (
        serving(receiver.app) as receiver_url,
        serving(create_app("http://127.0.0.1:9", state)) as sim_url,
    ):
        yield sim_url, receiver_url, receiver


@pytest.fixture
async def http():
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


def twilio(http, urls, callback: bool = True) -> TwilioAdapter:
    sim_url, receiver_url, _ = urls
    return TwilioAdapter(
        http, sim_url, SID, SecretStr(TOKEN), f"{receiver_url}/webhooks/twilio/status" if callback else None
    )


def telnyx(http, urls) -> TelnyxAdapter:
    sim_url, receiver_url, _ = urls
    return TelnyxAdapter(http, sim_url, SecretStr("KEYtest"), f"{receiver_url}/webhooks/telnyx")


def twilio_callbacks(calls: list, sid: str) -> list[dict[str, str]]:
    forms = []
    for url, headers, body in calls:
        if not url.endswith("/webhooks/twilio/status"):
            continue
        form = dict(parse_qsl(body.decode()))
        if form.get("MessageSid") != sid:
            continue
        assert RequestValidator(TOKEN).validate(url, form, headers["x-twilio-signature"]), "bad signature"
        forms.append(form)
    return forms


def telnyx_callbacks(calls: list, message_id: str) -> list[dict]:
    verify = VerifyKey(base64.b64decode(public_key_of(demo.TELNYX_PRIVATE_KEY)))
    events = []
    for url, headers, body in calls:
        if not url.endswith("/webhooks/telnyx"):
            continue
        event = json.loads(body)
        if event["data"]["payload"]["id"] != message_id:
            continue
        signed = headers["telnyx-timestamp"].encode() + b"|" + body
        verify.verify(signed, base64.b64decode(headers["telnyx-signature-ed25519"]))
        events.append(event["data"])
    return events


async def test_outbound_simulator_twilio_callbacks_are_signed_sent_then_delivered(http, urls):
    sid = await twilio(http, urls).send(FROM, "+14385551234", "hi", [], "key-1")
    forms = twilio_callbacks(await urls[2].wait(2, "twilio"), sid)
    assert [f["MessageStatus"] for f in forms] == ["sent", "delivered"]
    assert forms[0]["AccountSid"] == SID and forms[0]["To"] == "+14385551234"


@pytest.mark.parametrize(("suffix", "code"), [("0003", "30003"), ("0004", "30007"), ("0009", "30006")])
async def test_outbound_simulator_twilio_delivery_failures_come_in_the_callback(http, urls, suffix, code):
    sid = await twilio(http, urls).send(FROM, f"+1438555{suffix}", "hi", [], f"key-{suffix}")
    await asyncio.sleep(0.4)
    forms = twilio_callbacks(urls[2].calls, sid)
    assert [(f["MessageStatus"], f.get("ErrorCode")) for f in forms] == [
        ("sent", None),
        ("undelivered", code),
    ]


async def test_outbound_simulator_duplicates_and_out_of_order_on_demand(http, urls):
    duplicated = await twilio(http, urls).send(FROM, "+14385550011", "hi", [], "dup")
    reordered = await twilio(http, urls).send(FROM, "+14385550012", "hi", [], "ooo")
    await asyncio.sleep(0.4)
    assert [f["MessageStatus"] for f in twilio_callbacks(urls[2].calls, duplicated)] == [
        "sent",
        "sent",
        "delivered",
        "delivered",
    ]
    assert [f["MessageStatus"] for f in twilio_callbacks(urls[2].calls, reordered)] == ["delivered", "sent"]

    sim_url = urls[0]
    config = (await http.post(f"{sim_url}/simulate/config", json={"duplicate_callbacks": True})).json()
    assert config["duplicate_callbacks"] is True
    try:
        message_id = await telnyx(http, urls).send(FROM, "+14385557777", "hi", [], "cfg-dup")
        await asyncio.sleep(0.4)
        assert len(telnyx_callbacks(urls[2].calls, message_id)) == 4
    finally:
        await http.post(f"{sim_url}/simulate/config", json={"duplicate_callbacks": False})


async def test_outbound_simulator_telnyx_callbacks_are_ed25519_signed(http, urls):
    delivered = await telnyx(http, urls).send(FROM, "+14385552222", "hi", [], "t-ok")
    landline = await telnyx(http, urls).send(FROM, "+14385550001", "hi", [], "t-landline")
    await asyncio.sleep(0.4)
    ok = telnyx_callbacks(urls[2].calls, delivered)
    assert [(e["event_type"], e["payload"]["to"][0]["status"]) for e in ok] == [
        ("message.sent", "sent"),
        ("message.finalized", "delivered"),
    ]
    failed = telnyx_callbacks(urls[2].calls, landline)[-1]
    assert failed["payload"]["to"][0]["status"] == "delivery_failed"
    assert failed["payload"]["errors"][0]["code"] == "40001"


async def test_outbound_simulator_answers_like_the_real_apis(http, urls, state):
    sim_url = urls[0]
    twilio_url = f"{sim_url}/2010-04-01/Accounts/{SID}/Messages.json"
    created = await http.post(
        twilio_url, data={"To": "+14385553333", "From": FROM, "Body": "x"}, auth=(SID, TOKEN)
    )
    assert created.status_code == 201
    assert created.json()["status"] == "queued" and created.json()["sid"].startswith("SM")

    unauthenticated = await http.post(twilio_url, data={"To": "+14385553333", "From": FROM, "Body": "x"})
    assert unauthenticated.status_code == 401 and unauthenticated.json()["code"] == 20003
    no_body = await http.post(twilio_url, data={"To": "+14385553333", "From": FROM}, auth=(SID, TOKEN))
    assert no_body.status_code == 400
    assert (
        set(no_body.json()) == {"code", "message", "more_info", "status"} and no_body.json()["code"] == 21602
    )

    telnyx_url = f"{sim_url}/v2/messages"
    sent = await http.post(telnyx_url, json={"from": FROM, "to": "+14385553333", "text": "x"}, headers={})
    assert sent.status_code == 401 and sent.json()["errors"][0]["code"] == "10009"
    sent = await http.post(
        telnyx_url,
        json={"from": FROM, "to": "+14385553333", "text": "x"},
        headers={"authorization": "Bearer K"},
    )
    assert sent.status_code == 200 and sent.json()["data"]["to"][0]["status"] == "queued"
    missing = await http.post(
        telnyx_url, json={"from": FROM, "text": "x"}, headers={"authorization": "Bearer K"}
    )
    assert missing.status_code == 422 and missing.json()["errors"][0]["source"] == {"pointer": "/to"}


async def test_outbound_simulator_telnyx_replays_an_idempotency_key_twilio_ignores_it(http, urls, state):
    # As the real APIs do: Telnyx answers a retried key with the first answer; Twilio sends again.
    first = await telnyx(http, urls).send(FROM, "+14385554444", "hi", [], "same-key")
    again = await telnyx(http, urls).send(FROM, "+14385554444", "hi", [], "same-key")
    assert first == again
    adapter = twilio(http, urls, callback=False)
    one = await adapter.send(FROM, "+14385554445", "hi", [], "same-key")
    two = await adapter.send(FROM, "+14385554445", "hi", [], "same-key")
    assert one != two
    assert [len([r for r in state.sent if r.to_number == n]) for n in ("+14385554444", "+14385554445")] == [
        1,
        2,
    ]


async def test_outbound_simulator_lists_what_twilio_accepted_newest_first(http, urls):
    sim_url, _, _ = urls
    adapter = twilio(http, urls, callback=False)
    before = datetime.now(UTC) - timedelta(seconds=5)
    older = await adapter.send(FROM, "+14385556666", "first", [], "k1")
    newer = await adapter.send(FROM, "+14385556666", "second", [], "k2")
    await adapter.send(FROM, "+14385556667", "first", [], "k3")  # another customer
    listed = await http.get(
        f"{sim_url}/2010-04-01/Accounts/{SID}/Messages.json",
        params={"To": "+14385556666", "From": FROM},
        auth=(SID, TOKEN),
    )
    assert [m["sid"] for m in listed.json()["messages"]] == [newer, older]
    assert await adapter.accepted_since(FROM, "+14385556666", "first", before) == [older]
    assert (
        await adapter.accepted_since(FROM, "+14385556666", "first", datetime.now(UTC) + timedelta(minutes=1))
        == []
    )
    unauthenticated = await http.get(f"{sim_url}/2010-04-01/Accounts/{SID}/Messages.json")
    assert unauthenticated.status_code == 401


@pytest.mark.parametrize("carrier", ["twilio", "telnyx"])
async def test_outbound_simulator_drops_the_connection_after_accepting(http, urls, state, carrier):
    to_number = "+14385550013" if carrier == "twilio" else "+14385560013"
    adapter = twilio(http, urls, callback=False) if carrier == "twilio" else telnyx(http, urls)
    with pytest.raises(CarrierError) as raised:
        await adapter.send(FROM, to_number, "hi", [], f"drop-{carrier}")
    # Accepted, but the client cannot know: a retry must not be taken lightly.
    assert raised.value.ambiguous and raised.value.retryable
    assert [r.http_status for r in state.sent if r.to_number == to_number] == [
        201 if carrier == "twilio" else 200
    ]


async def test_outbound_simulator_connection_refused_is_a_safe_retry(http):
    adapter = TwilioAdapter(http, "http://127.0.0.1:9", SID, SecretStr(TOKEN), None)
    with pytest.raises(CarrierError) as raised:
        await adapter.send(FROM, "+14385557777", "hi", [], "k")
    assert raised.value.retryable and not raised.value.ambiguous


async def test_outbound_simulator_rate_limit_answer_carries_retry_after(http, urls):
    with pytest.raises(CarrierError) as raised:
        await twilio(http, urls, callback=False).send(FROM, "+14385550005", "hi", [], "rl")
    assert (raised.value.category, raised.value.code, raised.value.retryable) == (
        "rate_limited",
        "20429",
        True,
    )
    assert raised.value.retry_after == 1.0
