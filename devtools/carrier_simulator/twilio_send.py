"""Twilio-compatible send API: POST /2010-04-01/Accounts/{sid}/Messages.json answers 201 with a
`SM…` sid and status `queued`, or Twilio's error shape; the accepted text is kept for the message
list (list_api.py) and its signed status callbacks are scheduled. Twilio's API does not dedupe on
an `Idempotency-Key` header, so neither does this one."""

import secrets
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse, Response

from devtools.carrier_simulator import store
from devtools.carrier_simulator.callbacks import twilio_callbacks
from devtools.carrier_simulator.carrier_answers import twilio_error, twilio_token, twilio_unauthenticated
from devtools.carrier_simulator.failures import SendError, behaviour_for
from devtools.carrier_simulator.send_behaviour import arranged, dropped, drops_now, maybe_slow, planned_error
from devtools.carrier_simulator.state import SendRequest, SimulatorState


def twilio_send_router(state: SimulatorState) -> APIRouter:
    router = APIRouter()

    @router.post(
        "/2010-04-01/Accounts/{account_sid}/Messages.json",
        summary="Twilio-compatible: send a message",
        tags=["twilio"],
        status_code=201,
    )
    async def twilio_send(
        account_sid: str,
        request: Request,
        authorization: Annotated[str | None, Header()] = None,
        idempotency_key: Annotated[str | None, Header()] = None,
    ) -> Response:
        token = twilio_token(state, authorization, account_sid, honour_revocation=False)
        if not token:
            return twilio_unauthenticated()
        form = await request.form()
        to_number, from_number = str(form.get("To") or ""), str(form.get("From") or "")
        body, media = str(form.get("Body") or ""), [str(url) for url in form.getlist("MediaUrl")]
        callback = str(form.get("StatusCallback") or "") or None
        behaviour = behaviour_for("twilio", to_number)
        received = SendRequest(from_number, to_number, body, media, idempotency_key, callback)
        error = _missing(to_number, from_number, body, media) or planned_error(
            state, "twilio", to_number, behaviour
        )
        if error:
            state.record_send(
                "twilio", received, id=None, http_status=error.http_status, error_code=error.code
            )
            return twilio_error(error.http_status, error.code, f"{error.message}: {to_number}")
        sid = f"SM{secrets.token_hex(16)}"
        answer = _message(account_sid, sid, from_number, to_number, body, media)
        state.record_send("twilio", received, id=sid, http_status=201, error_code=None)
        error = behaviour.delivery_error
        state.twilio_messages.setdefault(account_sid, []).append(
            store.stamp(
                dict(answer),
                "undelivered" if error else "delivered",
                state.config.callback_delay_seconds,
                (error.code, error.message) if error else None,
            )
        )
        if callback and state.config.callbacks_enabled:
            forms = twilio_callbacks(account_sid, sid, from_number, to_number, behaviour)
            state.callbacks.schedule_twilio(
                callback, token, arranged(state, forms, behaviour), state.config.callback_delay_seconds
            )
        # Accepted, but the answer is late (the client times out) or never completes.
        await maybe_slow(state, "twilio", to_number, behaviour)
        if drops_now(state, "twilio", to_number, behaviour):
            return dropped(201)
        return JSONResponse(answer, status_code=201)

    return router


def _missing(to_number: str, from_number: str, body: str, media: list[str]) -> SendError | None:
    if not to_number:
        return SendError(400, "21604", "A 'To' phone number is required")
    if not from_number:
        return SendError(400, "21603", "A 'From' phone number is required")
    if not body and not media:
        return SendError(400, "21602", "Message body is required")
    return None


def _message(
    account_sid: str, sid: str, from_number: str, to_number: str, body: str, media: list[str]
) -> dict:
    now = format_datetime(datetime.now(UTC), usegmt=True)
    uri = f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}"
    return {
        "account_sid": account_sid,
        "api_version": "2010-04-01",
        "body": body,
        "date_created": now,
        "date_sent": None,
        "date_updated": now,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": from_number,
        "messaging_service_sid": None,
        "num_media": str(len(media)),
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": "queued",
        "subresource_uris": {"media": f"{uri}/Media.json"},
        "to": to_number,
        "uri": f"{uri}.json",
    }
