"""How each carrier answers an error and checks credentials, shared by the send APIs, the
credential checks and the read APIs: Twilio's `{code, message, more_info, status}` with HTTP
basic auth (AccountSid and auth token), Telnyx's `{"errors": [...]}` with a bearer API key."""

import base64
from typing import Any

from fastapi.responses import JSONResponse

from devtools.carrier_simulator.state import SimulatorState


def twilio_error(status: int, code: str, message: str) -> JSONResponse:
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


def telnyx_error(status: int, code: str, message: str, pointer: str | None = None) -> JSONResponse:
    error: dict[str, Any] = {"code": code, "title": message, "detail": message}
    if pointer:
        error["source"] = {"pointer": pointer}
    return JSONResponse(
        {"errors": [error]}, status_code=status, headers={"Retry-After": "1"} if status == 429 else None
    )


def basic_auth_token(authorization: str | None, account_sid: str) -> str | None:
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return password if user == account_sid and password else None


def twilio_token(
    state: SimulatorState, authorization: str | None, account_sid: str, *, honour_revocation: bool
) -> str | None:
    """The auth token the caller sent, when the simulated Twilio accepts it. Sending ignores
    revocations (POST /simulate/config `revoked_credentials`); the reads honour them."""
    token = basic_auth_token(authorization, account_sid)
    tokens = state.config.twilio_auth_tokens
    if not token or (tokens is not None and token != tokens.get(account_sid)):
        return None
    if honour_revocation and account_sid in state.revoked:
        return None
    return token


def telnyx_key_accepted(state: SimulatorState, authorization: str | None, *, honour_revocation: bool) -> bool:
    api_key = (authorization or "").removeprefix("Bearer ").strip()
    keys = state.config.telnyx_api_keys
    if not api_key or (keys is not None and api_key not in keys):
        return False
    return not (honour_revocation and api_key in state.revoked)


def twilio_unauthenticated() -> JSONResponse:
    return twilio_error(401, "20003", "Authenticate")


def telnyx_unauthenticated() -> JSONResponse:
    return telnyx_error(401, "10009", "Authentication failed")
