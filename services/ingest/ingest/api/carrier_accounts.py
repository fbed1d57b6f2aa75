"""Admins set the credentials ingest verifies their carriers' webhooks with: the Twilio account
(AccountSid and auth token) and the Telnyx public key. The sending side (Twilio auth token, Telnyx
API key) is notifier's `/api/v1/carrier-accounts`: each service keeps only what it needs.

Secrets go in and never come out: a listing shows the last four characters, masked. A change
drops this process's cached entry at once; other replicas pick it up when theirs expires
(`CREDENTIALS_CACHE_SECONDS`)."""

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.ext.asyncio import AsyncSession

from ingest import carrier_account_repository as accounts
from ingest import catch_up_repository as catch_up
from ingest.domain.carrier_accounts import normalize_ed25519_public_key
from ingest.usecases import carrier_credentials as credentials
from ingest.usecases.common import WebhookDeps
from shared.carriers.credentials import ADMINS_ONLY, CarrierSecret, TwilioAccountSid, secret_hint
from shared.carriers.credentials_api import (
    ADMIN_ENDPOINT_ERRORS,
    account_sid_taken,
    log_credentials_change,
    no_credentials,
)
from shared.http.auth import Principal
from shared.http.errors import ERROR_RESPONSE_SCHEMA
from shared.http.staff import CurrentStaffAuthenticated, admins_only

Carrier = Literal["twilio", "telnyx"]


class TwilioWebhookCredentials(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_sid: TwilioAccountSid = Field(
        description="The Twilio Account SID (`AC` and 32 hex digits) the dealership's webhooks name",
        examples=["AC0123456789abcdef0123456789abcdef"],
    )
    auth_token: CarrierSecret = Field(
        description="Its auth token, which signs the webhooks (never shown again)"
    )


class TelnyxWebhookKey(BaseModel):
    model_config = ConfigDict(extra="forbid")

    public_key: str = Field(
        description="The Telnyx account's public key (Ed25519, base64, from the Mission Control portal)",
        examples=["7jH4PIinEhmm/Pm+4NqbwiYgWI9aFaYUVVNQTflknlw="],
    )

    api_key: CarrierSecret | None = Field(
        None,
        description="A Telnyx API key (v2) ingest lists the numbers' texts with, to catch up on "
        "webhooks Telnyx gave up on (never shown again); without it only webhooks are received",
    )

    @field_validator("public_key")
    @classmethod
    def _key(cls, value: str) -> str:
        return normalize_ed25519_public_key(value)


class NumberCatchUp(BaseModel):
    number: str
    checkpoint: datetime | None = Field(
        None, description="Texts sent before it (less an overlap) were all listed"
    )
    last_success_at: datetime | None = None
    last_error: str | None = Field(None, description="Why the last listing failed (None when it worked)")
    last_error_at: datetime | None = None


class CarrierAccountView(BaseModel):
    carrier: Carrier
    account_sid: str | None = Field(None, description="Twilio: the AccountSid whose webhooks are verified")
    secret_hint: str | None = Field(
        None, description="Twilio: the auth token's last four characters, masked (`••••a1b2`)"
    )
    public_key: str | None = Field(None, description="Telnyx: the public key (not a secret)")
    numbers: list[str] = Field(
        default_factory=list,
        description="Telnyx: the dealership's Telnyx numbers (kept from routing) this key verifies",
    )
    api_key_hint: str | None = Field(
        None, description="Telnyx: the API key catch-up lists texts with, masked (None: not set)"
    )
    last_catch_up_error: str | None = Field(
        None,
        description="The latest problem listing this carrier's texts for catch-up (revoked "
        "credentials, the carrier unavailable); None when every number's last listing worked",
    )
    catch_up: list[NumberCatchUp] = Field(
        default_factory=list, description="Catch-up from the carrier's API, number by number"
    )
    updated_at: datetime


def _catch_up(states: list[catch_up.NumberState], carrier: str) -> dict:
    mine = [s for s in states if s.carrier == carrier]
    failing = sorted(
        (s for s in mine if s.last_error), key=lambda s: s.last_error_at or s.checkpoint, reverse=True
    )
    return {
        "last_catch_up_error": failing[0].last_error if failing else None,
        "catch_up": [
            NumberCatchUp(
                number=s.e164,
                checkpoint=s.checkpoint,
                last_success_at=s.last_success_at,
                last_error=s.last_error,
                last_error_at=s.last_error_at,
            )
            for s in mine
        ],
    }


def _twilio_view(row: accounts.TwilioAccountRow, states: list[catch_up.NumberState]) -> CarrierAccountView:
    return CarrierAccountView(
        carrier="twilio",
        account_sid=row.account_sid,
        secret_hint=secret_hint(row.auth_token),
        updated_at=row.updated_at,
        **_catch_up(states, "twilio"),
    )


def _telnyx_view(row: accounts.TelnyxAccountRow, states: list[catch_up.NumberState]) -> CarrierAccountView:
    return CarrierAccountView(
        carrier="telnyx",
        public_key=row.public_key,
        numbers=row.numbers,
        api_key_hint=secret_hint(row.api_key) if row.api_key else None,
        updated_at=row.updated_at,
        **_catch_up(states, "telnyx"),
    )


async def _views(session: AsyncSession, caller: Principal) -> list[CarrierAccountView]:
    states = await catch_up.number_states(session, caller.account_id)
    views = [_twilio_view(row, states) for row in await accounts.twilio_accounts(session, caller.account_id)]
    telnyx = await accounts.telnyx_account(session, caller.account_id)
    return views + ([_telnyx_view(telnyx, states)] if telnyx else [])


def carrier_accounts_router(deps: WebhookDeps, auth: CurrentStaffAuthenticated) -> APIRouter:
    """`auth`: staff checked against routing (active, current role); only admins pass."""
    router = APIRouter(prefix="/api/v1/carrier-webhook-credentials", tags=["carrier webhook credentials"])
    Admin = Annotated[Principal, Depends(admins_only(auth, ADMINS_ONLY))]
    errors = ADMIN_ENDPOINT_ERRORS
    sessions = deps.sessions

    def changed(caller: Principal, carrier: Carrier, what: str, **fields: str) -> None:
        log_credentials_change("carrier webhook credentials changed", caller, carrier, what, **fields)

    @router.get(
        "",
        response_model=list[CarrierAccountView],
        summary="The carrier credentials webhooks are verified with (no secrets)",
        responses=errors,
    )
    async def list_accounts(caller: Admin) -> list[CarrierAccountView]:
        async with sessions() as session:
            return await _views(session, caller)

    @router.put(
        "/twilio",
        response_model=CarrierAccountView,
        summary="Set the Twilio account whose webhooks are the dealership's",
        description="Replaces the dealership's Twilio credentials at ingest (a previous Account SID "
        "is forgotten). 409 when the Account SID is already set up for another dealership: it "
        "is never moved. Set the sending side in notifier too.",
        responses={**errors, 409: ERROR_RESPONSE_SCHEMA, 422: ERROR_RESPONSE_SCHEMA},
    )
    async def put_twilio(caller: Admin, body: TwilioWebhookCredentials) -> CarrierAccountView:
        try:
            async with sessions.begin() as session:
                touched = await credentials.set_twilio_webhook_credentials(
                    session, caller.account_id, body.account_sid, body.auth_token.get_secret_value()
                )
                [row] = await accounts.twilio_accounts(session, caller.account_id)
                states = await catch_up.number_states(session, caller.account_id)
        except accounts.AccountSidTaken as exc:
            raise account_sid_taken(body.account_sid) from exc
        deps.credentials.forget(*touched)
        changed(caller, "twilio", "set", account_sid=body.account_sid)
        return _twilio_view(row, states)

    @router.put(
        "/telnyx",
        response_model=CarrierAccountView,
        summary="Set the Telnyx public key the dealership's webhooks are verified with",
        description="The dealership's Telnyx numbers come from routing (`phone_number.changed.v1`).",
        responses={**errors, 422: ERROR_RESPONSE_SCHEMA},
    )
    async def put_telnyx(caller: Admin, body: TelnyxWebhookKey) -> CarrierAccountView:
        async with sessions.begin() as session:
            api_key = body.api_key.get_secret_value() if body.api_key is not None else None
            await credentials.set_telnyx_webhook_key(session, caller.account_id, body.public_key, api_key)
            row = await accounts.telnyx_account(session, caller.account_id)
            states = await catch_up.number_states(session, caller.account_id)
        assert row is not None
        deps.telnyx_keys.forget_account(caller.account_id)
        changed(caller, "telnyx", "set")
        return _telnyx_view(row, states)

    @router.delete(
        "/{carrier}",
        status_code=204,
        response_class=Response,
        summary="Forget a carrier's credentials: its webhooks are refused from then on",
        responses={**errors, 404: ERROR_RESPONSE_SCHEMA, 422: ERROR_RESPONSE_SCHEMA},
    )
    async def delete_account(carrier: Carrier, caller: Admin) -> Response:
        async with sessions.begin() as session:
            if carrier == "twilio":
                removed = await accounts.delete_twilio_accounts(session, caller.account_id)
                found = bool(removed)
            else:
                found = await accounts.delete_telnyx_key(session, caller.account_id)
        if not found:
            raise no_credentials(carrier)
        if carrier == "twilio":
            deps.credentials.forget(*removed)
        else:
            deps.telnyx_keys.forget_account(caller.account_id)
        changed(caller, carrier, "deleted")
        return Response(status_code=204)

    return router
