"""The carrier simulator's outage switch the chaos run uses: while `send_failure_status` is set,
every send is refused with that status in each carrier's own error shape (429 with Retry-After),
nothing is accepted; set back to 0, sending works again. Anything else is refused."""

import base64

import httpx

from devtools import demo
from devtools.carrier_simulator.__main__ import create_app
from devtools.carrier_simulator.send_api import SimulatorConfig, SimulatorState

SID = demo.TWILIO_ACCOUNT_SID


def _client() -> tuple[httpx.AsyncClient, SimulatorState]:
    state = SimulatorState(SimulatorConfig(callbacks_enabled=False))
    app = create_app("http://127.0.0.1:9", state)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://simulator"), state


async def _twilio(client: httpx.AsyncClient) -> httpx.Response:
    auth = base64.b64encode(f"{SID}:token".encode()).decode()
    return await client.post(
        f"/2010-04-01/Accounts/{SID}/Messages.json",
        data={"To": "+15145561234", "From": demo.DEALERSHIP_NUMBER, "Body": "hello"},
        headers={"authorization": f"Basic {auth}"},
    )


async def _telnyx(client: httpx.AsyncClient) -> httpx.Response:
    return await client.post(
        "/v2/messages",
        json={"to": "+15145561234", "from": demo.TELNYX_NUMBER, "text": "hello"},
        headers={"authorization": "Bearer KEY"},
    )


async def test_an_outage_refuses_every_send_until_it_is_switched_off():
    client, state = _client()
    async with client:
        switched = await client.post("/simulate/config", json={"send_failure_status": 429})
        assert switched.json()["send_failure_status"] == 429
        twilio, telnyx = await _twilio(client), await _telnyx(client)
        assert (twilio.status_code, twilio.json()["code"]) == (429, 20429)
        assert twilio.headers["retry-after"] == "1"
        assert (telnyx.status_code, telnyx.json()["errors"][0]["code"]) == (429, "10011")

        await client.post("/simulate/config", json={"send_failure_status": 500})
        twilio, telnyx = await _twilio(client), await _telnyx(client)
        assert (twilio.status_code, twilio.json()["code"]) == (500, 20500)
        assert (telnyx.status_code, telnyx.json()["errors"][0]["code"]) == (500, "10007")
        assert [r.id for r in state.sent] == [None, None, None, None]  # nothing accepted

        await client.post("/simulate/config", json={"send_failure_status": 0})
        assert (await _twilio(client)).status_code == 201
        assert (await _telnyx(client)).status_code == 200


async def test_an_outage_status_that_is_no_failure_is_refused():
    client, _ = _client()
    async with client:
        refused = await client.post("/simulate/config", json={"send_failure_status": 200})
        assert refused.status_code == 422
        assert (await _twilio(client)).status_code == 201
