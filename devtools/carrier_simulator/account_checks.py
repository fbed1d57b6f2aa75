"""The reads a client makes to test its credentials (notifier's carrier-accounts test): Twilio's
account, Telnyx's messaging profile and balance. Revoked credentials (POST /simulate/config
`revoked_credentials`) are refused here, as after a revocation."""

from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse

from devtools.carrier_simulator.carrier_answers import (
    telnyx_error,
    telnyx_key_accepted,
    telnyx_unauthenticated,
    twilio_token,
    twilio_unauthenticated,
)
from devtools.carrier_simulator.state import SimulatorState


def account_checks_router(state: SimulatorState) -> APIRouter:
    router = APIRouter()

    @router.get("/2010-04-01/Accounts/{account_sid}.json", summary="Twilio: the account", tags=["twilio"])
    async def twilio_account(
        account_sid: str, authorization: Annotated[str | None, Header()] = None
    ) -> JSONResponse:
        if not twilio_token(state, authorization, account_sid, honour_revocation=True):
            return twilio_unauthenticated()
        return JSONResponse(
            {
                "sid": account_sid,
                "friendly_name": "Simulated account",
                "status": "active",
                "type": "Full",
                "date_created": format_datetime(datetime(2020, 1, 1, tzinfo=UTC), usegmt=True),
                "uri": f"/2010-04-01/Accounts/{account_sid}.json",
            }
        )

    @router.get("/v2/messaging_profiles/{profile_id}", summary="Telnyx: a messaging profile", tags=["telnyx"])
    async def telnyx_profile(
        profile_id: str, authorization: Annotated[str | None, Header()] = None
    ) -> JSONResponse:
        if not telnyx_key_accepted(state, authorization, honour_revocation=True):
            return telnyx_unauthenticated()
        known = state.config.telnyx_messaging_profiles
        if known is not None and profile_id not in known:
            return telnyx_error(404, "10005", "Resource not found")
        return JSONResponse(
            {
                "data": {
                    "record_type": "messaging_profile",
                    "id": profile_id,
                    "name": "Simulated profile",
                    "enabled": True,
                    "webhook_api_version": "2",
                }
            }
        )

    @router.get("/v2/balance", summary="Telnyx: the account's balance", tags=["telnyx"])
    async def telnyx_balance(authorization: Annotated[str | None, Header()] = None) -> JSONResponse:
        if not telnyx_key_accepted(state, authorization, honour_revocation=True):
            return telnyx_unauthenticated()
        return JSONResponse(
            {
                "data": {
                    "record_type": "balance",
                    "balance": "100.00",
                    "credit_limit": "0.00",
                    "available_credit": "100.00",
                    "pending": "0.00",
                    "currency": "USD",
                }
            }
        )

    return router
