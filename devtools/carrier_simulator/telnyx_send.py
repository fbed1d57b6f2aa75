"""Telnyx-compatible send API: POST /v2/messages answers 200 `{"data": {...}}` or Telnyx's
`{"errors": [...]}`; an `Idempotency-Key` header gets the first answer again, as Telnyx does. The
accepted text is kept for the detail records (list_api.py) and its signed status callbacks are
scheduled."""

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse, Response

from devtools.carrier_simulator import store
from devtools.carrier_simulator.callbacks import telnyx_callbacks
from devtools.carrier_simulator.carrier_answers import (
    telnyx_error,
    telnyx_key_accepted,
    telnyx_unauthenticated,
)
from devtools.carrier_simulator.failures import behaviour_for
from devtools.carrier_simulator.send_behaviour import arranged, dropped, drops_now, maybe_slow, planned_error
from devtools.carrier_simulator.state import SendRequest, SimulatorState


def telnyx_send_router(state: SimulatorState) -> APIRouter:
    router = APIRouter()

    @router.post("/v2/messages", summary="Telnyx-compatible: send a message", tags=["telnyx"])
    async def telnyx_send(
        request: Request,
        authorization: Annotated[str | None, Header()] = None,
        idempotency_key: Annotated[str | None, Header()] = None,
    ) -> Response:
        if not telnyx_key_accepted(state, authorization, honour_revocation=False):
            return telnyx_unauthenticated()
        try:
            payload = await request.json()
        except ValueError:
            return telnyx_error(400, "10015", "Bad Request")
        if not isinstance(payload, dict):
            return telnyx_error(400, "10015", "Bad Request")
        to_number, from_number = str(payload.get("to") or ""), str(payload.get("from") or "")
        body = str(payload.get("text") or "")
        media = [str(url) for url in payload.get("media_urls") or []]
        callback = payload.get("webhook_url") or None
        if idempotency_key and ("telnyx", idempotency_key) in state.answers:
            status, answer = state.answers[("telnyx", idempotency_key)]
            return JSONResponse(answer, status_code=status)
        behaviour = behaviour_for("telnyx", to_number)
        received = SendRequest(from_number, to_number, body, media, idempotency_key, callback)
        for name, value in (("to", to_number), ("from", from_number)):
            if not value:
                return telnyx_error(422, "10004", "Missing required parameter", f"/{name}")
        error = planned_error(state, "telnyx", to_number, behaviour)
        if error:
            state.record_send(
                "telnyx", received, id=None, http_status=error.http_status, error_code=error.code
            )
            return telnyx_error(error.http_status, error.code, error.message, "/to")
        message_id = str(uuid.uuid4())
        answer = {"data": _message(message_id, from_number, to_number, body, media, callback)}
        state.record_send("telnyx", received, id=message_id, http_status=200, error_code=None)
        if idempotency_key:
            state.answers[("telnyx", idempotency_key)] = (200, answer)
        error = behaviour.delivery_error
        state.telnyx_messages[message_id] = store.stamp(
            {**answer["data"], "to": [dict(answer["data"]["to"][0])]},
            "delivery_failed" if error else "delivered",
            state.config.callback_delay_seconds,
            (error.code, error.message) if error else None,
        )
        if callback and state.config.callbacks_enabled:
            events = telnyx_callbacks(message_id, from_number, to_number, behaviour)
            state.callbacks.schedule_telnyx(
                callback,
                state.config.telnyx_private_key,
                arranged(state, events, behaviour),
                state.config.callback_delay_seconds,
            )
        await maybe_slow(state, "telnyx", to_number, behaviour)
        if drops_now(state, "telnyx", to_number, behaviour):
            return dropped(200)
        return JSONResponse(answer, status_code=200)

    return router


def _message(
    message_id: str, from_number: str, to_number: str, body: str, media: list[str], webhook_url: str | None
) -> dict:
    return {
        "record_type": "message",
        "direction": "outbound",
        "id": message_id,
        "type": "MMS" if media else "SMS",
        "messaging_profile_id": None,
        "from": {"phone_number": from_number, "carrier": "Telnyx", "line_type": "Wireless"},
        "to": [
            {
                "phone_number": to_number,
                "status": "queued",
                "carrier": "Rogers Wireless",
                "line_type": "Wireless",
            }
        ],
        "text": body,
        "media": [{"url": url, "content_type": None, "sha256": None, "size": None} for url in media],
        "webhook_url": webhook_url,
        "webhook_failover_url": None,
        "encoding": "GSM-7",
        "parts": 1,
        "tags": [],
        "cost": None,
        "received_at": datetime.now(UTC).isoformat(),
        "sent_at": None,
        "completed_at": None,
        "valid_until": None,
        "errors": [],
    }
