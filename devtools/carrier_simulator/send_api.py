"""Twilio- and Telnyx-compatible send endpoints, assembled from one module per job:
- twilio_send.py, telnyx_send.py: the send APIs, answering like the real ones, failing by
  destination number (failures.py, send_behaviour.py) and scheduling signed status callbacks;
- account_checks.py: the reads a client makes to test its credentials;
- control_api.py: GET /simulate/sent (every request received, so tests can count texts and
  measure their spacing) and POST /simulate/config, which also holds the outage switch (outage.py).
The carriers' read APIs are list_api.py. SimulatorConfig and SimulatorState (state.py) are
importable from here too, as the tests have always imported them."""

from fastapi import APIRouter

from devtools.carrier_simulator.account_checks import account_checks_router
from devtools.carrier_simulator.control_api import control_router
from devtools.carrier_simulator.state import SentRecord, SimulatorConfig, SimulatorState
from devtools.carrier_simulator.telnyx_send import telnyx_send_router
from devtools.carrier_simulator.twilio_send import twilio_send_router

__all__ = ["SentRecord", "SimulatorConfig", "SimulatorState", "send_router"]


def send_router(state: SimulatorState) -> APIRouter:
    router = APIRouter()
    router.include_router(twilio_send_router(state))
    router.include_router(telnyx_send_router(state))
    router.include_router(account_checks_router(state))
    router.include_router(control_router(state))
    return router
