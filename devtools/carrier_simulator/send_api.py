"""Twilio- and Telnyx-compatible send endpoints. They answer like the real APIs (Twilio: 201 with
a `SM…` sid and status `queued`, `{code, message, more_info, status}` on errors; Telnyx: 200
`{"data": {...}}`, `{"errors": [...]}` on errors), fail by destination number (failures.py),
schedule signed status callbacks, and record every request they received (GET /simulate/sent) so
tests can count texts and measure their spacing. Telnyx honours an `Idempotency-Key` header;
Twilio ignores it, as the real API does, and lists the messages it accepted (GET Messages.json)
so a client unsure whether a text went can ask (list_api.py serves the carriers' read APIs)."""

import asyncio
import base64
import secrets
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field, field_validator

from devtools import demo
from devtools.carrier_simulator import store
from devtools.carrier_simulator.callbacks import CallbackSender, arrange, telnyx_callbacks, twilio_callbacks
from devtools.carrier_simulator.failures import Behaviour, SendError, behaviour_for


@dataclass
class SentRecord:
    carrier: str
    id: str | None
    from_number: str
    to_number: str
    body: str
    media_urls: list[str]
    received_at: float
    http_status: int
    error_code: str | None
    idempotency_key: str | None
    callback_url: str | None


@dataclass
class SimulatorConfig:
    callback_delay_seconds: float = 1.0
    callbacks_enabled: bool = True
    # Apply to every accepted text, on top of the numbers that ask for it (failures.py).
    duplicate_callbacks: bool = False
    out_of_order_callbacks: bool = False
    slow_seconds: float = 15.0
    # A carrier outage (chaos runs): every send is answered this HTTP status (429 or 5xx) while
    # it is set; 0 sends normally.
    send_failure_status: int = 0
    # None accepts any non-empty credentials.
    twilio_auth_tokens: dict[str, str] | None = None
    telnyx_api_keys: set[str] | None = None
    # Messaging profiles GET /v2/messaging_profiles/{id} knows; None knows every id.
    telnyx_messaging_profiles: set[str] | None = None
    telnyx_private_key: str = demo.TELNYX_PRIVATE_KEY


@dataclass
class SimulatorState:
    config: SimulatorConfig = field(default_factory=SimulatorConfig)
    sent: list[SentRecord] = field(default_factory=list)
    answers: dict[tuple[str, str], tuple[int, dict]] = field(default_factory=dict)
    # Every message Twilio accepted or received, per account sid, oldest first (list_api.py).
    twilio_messages: dict[str, list[dict]] = field(default_factory=dict)
    # Every message Telnyx accepted or received, by id (detail records, GET /v2/messages/{id}).
    telnyx_messages: dict[str, dict] = field(default_factory=dict)
    # The next reads of the list APIs answer these HTTP statuses, one each; then they work.
    read_failures: list[int] = field(default_factory=list)
    # AccountSids and API keys the carriers now refuse (401), as after a revocation.
    revoked: set[str] = field(default_factory=set)
    tripped: set[tuple[str, str, str]] = field(default_factory=set)
    callbacks: CallbackSender = field(default_factory=CallbackSender)

    def first_time(self, carrier: str, to_number: str, what: str) -> bool:
        key = (carrier, to_number, what)
        if key in self.tripped:
            return False
        self.tripped.add(key)
        return True


class ConfigUpdate(BaseModel):
    callback_delay_seconds: float | None = Field(default=None, ge=0, le=600)
    # Not SimulatorConfig fields: they live on the state (see list_api.py).
    read_failures: list[int] | None = Field(default=None, description="HTTP statuses for the next reads")
    revoked_credentials: list[str] | None = Field(default=None, description="AccountSids / API keys refused")
    callbacks_enabled: bool | None = None
    duplicate_callbacks: bool | None = None
    out_of_order_callbacks: bool | None = None
    slow_seconds: float | None = Field(default=None, ge=0, le=600)
    send_failure_status: int | None = Field(
        default=None, description="Answer every send with this status (429, 500, 503); 0 ends it"
    )

    @field_validator("send_failure_status")
    @classmethod
    def _a_failure(cls, value: int | None) -> int | None:
        if value not in (None, 0, 429, 500, 502, 503):
            raise ValueError("0, 429, 500, 502 or 503")
        return value


def _twilio_error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(
        {
            "code": int(code) if code.isdigit() else code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status_code=status,
        headers={"Retry-After": "1"} if status == 429 else None,
    )


def _telnyx_error(status: int, code: str, message: str, pointer: str | None = None) -> JSONResponse:
    error: dict[str, Any] = {"code": code, "title": message, "detail": message}
    if pointer:
        error["source"] = {"pointer": pointer}
    return JSONResponse(
        {"errors": [error]}, status_code=status, headers={"Retry-After": "1"} if status == 429 else None
    )


# What each carrier answers in an outage (send_failure_status).
_OUTAGE = {
    ("twilio", 429): SendError(429, "20429", "Too Many Requests"),
    ("telnyx", 429): SendError(429, "10011", "Too many requests"),
    ("twilio", 500): SendError(500, "20500", "Internal Server Error"),
    ("telnyx", 500): SendError(500, "10007", "Unexpected error"),
}


def _planned_error(
    state: SimulatorState, carrier: str, to_number: str, behaviour: Behaviour
) -> SendError | None:
    outage = state.config.send_failure_status
    if outage:
        return _OUTAGE.get((carrier, outage)) or SendError(
            outage, "20503" if carrier == "twilio" else "10007", "Service Unavailable"
        )
    error = behaviour.send_error
    if error is None:
        return None
    if behaviour.once and not state.first_time(carrier, to_number, "send_error"):
        return None
    return error


def send_router(state: SimulatorState) -> APIRouter:
    router = APIRouter()

    def record(carrier: str, **fields: Any) -> None:
        state.sent.append(SentRecord(carrier=carrier, received_at=time.time(), **fields))

    async def maybe_slow(carrier: str, to_number: str, behaviour: Behaviour) -> None:
        if behaviour.slow_once and state.first_time(carrier, to_number, "slow"):
            await asyncio.sleep(state.config.slow_seconds)

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
    ) -> JSONResponse:
        token = _basic_auth_token(authorization, account_sid)
        expected = (state.config.twilio_auth_tokens or {}).get(account_sid)
        if not token or (state.config.twilio_auth_tokens is not None and token != expected):
            return _twilio_error(401, "20003", "Authenticate")
        form = await request.form()
        to_number, from_number = str(form.get("To") or ""), str(form.get("From") or "")
        body, media = str(form.get("Body") or ""), [str(url) for url in form.getlist("MediaUrl")]
        callback = str(form.get("StatusCallback") or "") or None
        # No Idempotency-Key check: Twilio's API does not dedupe on it, so neither does this one.
        behaviour = behaviour_for("twilio", to_number)
        base = {"from_number": from_number, "to_number": to_number, "body": body, "media_urls": media}
        missing = _twilio_missing(to_number, from_number, body, media)
        error = missing or _planned_error(state, "twilio", to_number, behaviour)
        if error:
            record(
                "twilio",
                id=None,
                http_status=error.http_status,
                error_code=error.code,
                idempotency_key=idempotency_key,
                callback_url=callback,
                **base,
            )
            return _twilio_error(error.http_status, error.code, f"{error.message}: {to_number}")
        sid = f"SM{secrets.token_hex(16)}"
        answer = _twilio_message(account_sid, sid, from_number, to_number, body, media)
        record(
            "twilio",
            id=sid,
            http_status=201,
            error_code=None,
            idempotency_key=idempotency_key,
            callback_url=callback,
            **base,
        )
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
                callback, token, _arranged(state, forms, behaviour), state.config.callback_delay_seconds
            )
        # Accepted, but the answer is late (the client times out) or never completes.
        await maybe_slow("twilio", to_number, behaviour)
        if behaviour.drop_once and state.first_time("twilio", to_number, "drop"):
            return _dropped(201)
        return JSONResponse(answer, status_code=201)

    @router.post("/v2/messages", summary="Telnyx-compatible: send a message", tags=["telnyx"])
    async def telnyx_send(
        request: Request,
        authorization: Annotated[str | None, Header()] = None,
        idempotency_key: Annotated[str | None, Header()] = None,
    ) -> JSONResponse:
        api_key = (authorization or "").removeprefix("Bearer ").strip()
        keys = state.config.telnyx_api_keys
        if not api_key or (keys is not None and api_key not in keys):
            return _telnyx_error(401, "10009", "Authentication failed")
        try:
            payload = await request.json()
        except ValueError:
            return _telnyx_error(400, "10015", "Bad Request")
        if not isinstance(payload, dict):
            return _telnyx_error(400, "10015", "Bad Request")
        to_number, from_number = str(payload.get("to") or ""), str(payload.get("from") or "")
        body = str(payload.get("text") or "")
        media = [str(url) for url in payload.get("media_urls") or []]
        callback = payload.get("webhook_url") or None
        if idempotency_key and ("telnyx", idempotency_key) in state.answers:
            status, answer = state.answers[("telnyx", idempotency_key)]
            return JSONResponse(answer, status_code=status)
        behaviour = behaviour_for("telnyx", to_number)
        base = {"from_number": from_number, "to_number": to_number, "body": body, "media_urls": media}
        for name, value in (("to", to_number), ("from", from_number)):
            if not value:
                return _telnyx_error(422, "10004", "Missing required parameter", f"/{name}")
        error = _planned_error(state, "telnyx", to_number, behaviour)
        if error:
            record(
                "telnyx",
                id=None,
                http_status=error.http_status,
                error_code=error.code,
                idempotency_key=idempotency_key,
                callback_url=callback,
                **base,
            )
            return _telnyx_error(error.http_status, error.code, error.message, "/to")
        message_id = str(uuid.uuid4())
        answer = {"data": _telnyx_message(message_id, from_number, to_number, body, media, callback)}
        record(
            "telnyx",
            id=message_id,
            http_status=200,
            error_code=None,
            idempotency_key=idempotency_key,
            callback_url=callback,
            **base,
        )
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
                _arranged(state, events, behaviour),
                state.config.callback_delay_seconds,
            )
        await maybe_slow("telnyx", to_number, behaviour)
        if behaviour.drop_once and state.first_time("telnyx", to_number, "drop"):
            return _dropped(200)
        return JSONResponse(answer, status_code=200)

    # The reads a client makes to test credentials (notifier's carrier-accounts test).
    @router.get("/2010-04-01/Accounts/{account_sid}.json", summary="Twilio: the account", tags=["twilio"])
    async def twilio_account(
        account_sid: str, authorization: Annotated[str | None, Header()] = None
    ) -> JSONResponse:
        token = _basic_auth_token(authorization, account_sid)
        expected = (state.config.twilio_auth_tokens or {}).get(account_sid)
        refused = state.config.twilio_auth_tokens is not None and token != expected
        if not token or refused or account_sid in state.revoked:
            return _twilio_error(401, "20003", "Authenticate")
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

    def telnyx_refused(authorization: str | None) -> JSONResponse | None:
        api_key = (authorization or "").removeprefix("Bearer ").strip()
        keys = state.config.telnyx_api_keys
        if not api_key or (keys is not None and api_key not in keys) or api_key in state.revoked:
            return _telnyx_error(401, "10009", "Authentication failed")
        return None

    @router.get("/v2/messaging_profiles/{profile_id}", summary="Telnyx: a messaging profile", tags=["telnyx"])
    async def telnyx_profile(
        profile_id: str, authorization: Annotated[str | None, Header()] = None
    ) -> JSONResponse:
        refused = telnyx_refused(authorization)
        if refused:
            return refused
        known = state.config.telnyx_messaging_profiles
        if known is not None and profile_id not in known:
            return _telnyx_error(404, "10005", "Resource not found")
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
        refused = telnyx_refused(authorization)
        if refused:
            return refused
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

    @router.get("/simulate/sent", summary="What the simulator received, oldest first", tags=["simulate"])
    async def sent(
        to: Annotated[str | None, Query(description="Only texts to this number")] = None,
        from_: Annotated[str | None, Query(alias="from", description="Only texts from this number")] = None,
        carrier: Annotated[str | None, Query()] = None,
    ) -> list[dict]:
        return [
            asdict(r)
            for r in state.sent
            if (to is None or r.to_number == to)
            and (from_ is None or r.from_number == from_)
            and (carrier is None or r.carrier == carrier)
        ]

    @router.delete("/simulate/sent", summary="Forget what was received", tags=["simulate"], status_code=204)
    async def forget() -> None:
        state.sent.clear()

    @router.post("/simulate/config", summary="Change callback delay, duplicates, ordering", tags=["simulate"])
    async def configure(update: ConfigUpdate) -> dict:
        for name, value in update.model_dump(exclude_none=True).items():
            if name == "read_failures":
                state.read_failures[:] = value
            elif name == "revoked_credentials":
                state.revoked = set(value)
            else:
                setattr(state.config, name, value)
        return {
            "callback_delay_seconds": state.config.callback_delay_seconds,
            "callbacks_enabled": state.config.callbacks_enabled,
            "duplicate_callbacks": state.config.duplicate_callbacks,
            "out_of_order_callbacks": state.config.out_of_order_callbacks,
            "slow_seconds": state.config.slow_seconds,
            "send_failure_status": state.config.send_failure_status,
        }

    return router


def _dropped(status: int) -> StreamingResponse:
    """The answer starts, then the connection is closed mid-body: the client cannot tell whether
    the text was accepted."""

    async def cut_short():
        yield b'{"status": "queued", '
        raise ConnectionAbortedError("simulated: connection dropped after the text was accepted")

    return StreamingResponse(cut_short(), status_code=status, media_type="application/json")


def _arranged(state: SimulatorState, callbacks: list, behaviour: Behaviour) -> list:
    return arrange(
        callbacks,
        duplicate=state.config.duplicate_callbacks or behaviour.duplicate_callbacks,
        out_of_order=state.config.out_of_order_callbacks or behaviour.out_of_order_callbacks,
    )


def _basic_auth_token(authorization: str | None, account_sid: str) -> str | None:
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return password if user == account_sid and password else None


def _twilio_missing(to_number: str, from_number: str, body: str, media: list[str]) -> SendError | None:
    if not to_number:
        return SendError(400, "21604", "A 'To' phone number is required")
    if not from_number:
        return SendError(400, "21603", "A 'From' phone number is required")
    if not body and not media:
        return SendError(400, "21602", "Message body is required")
    return None


def _twilio_message(
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


def _telnyx_message(
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
