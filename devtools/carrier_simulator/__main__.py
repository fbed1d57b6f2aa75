"""`python -m devtools.carrier_simulator` serves the simulator (port 8089):
- POST /simulate/sms with JSON {"from", "to", "body"} makes a customer text a Twilio number (one
  signed webhook to ingest, never retried), POST /simulate/telnyx a Telnyx number (retried three
  times within seconds); both keep the text listable (inbound.py);
- the carriers' read APIs over everything sent and received (list_api.py), which ingest's
  catch-up lists;
- Twilio- and Telnyx-compatible send endpoints (POST /2010-04-01/Accounts/{sid}/Messages.json,
  POST /v2/messages) that fail by destination number (failures.py) and post signed status
  callbacks after a delay; GET /simulate/sent lists what they received, POST /simulate/config
  changes the callback delay and asks for duplicate or out-of-order callbacks.
`python -m devtools.carrier_simulator send --from +15145551234 --body "Hi"` sends one inbound text."""

import argparse
import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import uvicorn
from fastapi import FastAPI

from devtools import demo
from devtools.carrier_simulator.inbound import inbound_router
from devtools.carrier_simulator.list_api import list_router
from devtools.carrier_simulator.send_api import SimulatorConfig, SimulatorState, send_router
from devtools.carrier_simulator.twilio import inbound_sms_form, post_inbound


def create_app(ingest_url: str, state: SimulatorState | None = None) -> FastAPI:
    state = state or SimulatorState()

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await state.callbacks.close()

    app = FastAPI(title="Switchboard carrier simulator", lifespan=lifespan)
    app.state.simulator = state
    app.include_router(send_router(state))

    app.include_router(inbound_router(ingest_url, state))
    app.include_router(list_router(state))
    return app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m devtools.carrier_simulator")
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "send"])
    parser.add_argument("--ingest-url", default="http://127.0.0.1:8081")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--from", dest="from_number", default="+15145551234")
    parser.add_argument("--to", default=demo.DEALERSHIP_NUMBER)
    parser.add_argument("--body", default="Hello, is my car ready?")
    parser.add_argument("--callback-delay", type=float, default=1.0, help="seconds before status callbacks")
    parser.add_argument("--no-callbacks", action="store_true", help="accept texts without status callbacks")
    args = parser.parse_args()
    if args.command == "serve":
        config = SimulatorConfig(
            callback_delay_seconds=args.callback_delay, callbacks_enabled=not args.no_callbacks
        )
        state = SimulatorState(config)
        uvicorn.run(create_app(args.ingest_url, state), host="127.0.0.1", port=args.port, log_level="warning")
        return

    async def send_once() -> None:
        form = inbound_sms_form(demo.TWILIO_ACCOUNT_SID, args.from_number, args.to, args.body)
        async with httpx.AsyncClient(timeout=10) as client:
            response = await post_inbound(client, args.ingest_url, demo.TWILIO_AUTH_TOKEN, form)
        print(response.status_code, form["MessageSid"])

    asyncio.run(send_once())


if __name__ == "__main__":
    main()
