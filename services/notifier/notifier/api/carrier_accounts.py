"""Admins set the credentials notifier sends their texts with: the Twilio account (AccountSid and
auth token) and the Telnyx API key (and messaging profile). Webhook verification is ingest's
`/api/v1/carrier-webhook-credentials`: each service keeps only what it needs, so an admin sets both.

Secrets go in and never come out: a listing shows the last four characters, masked. A change
drops this process's cached adapter at once; other replicas pick it up when theirs expires
(`CARRIER_CREDENTIALS_CACHE_SECONDS`)."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import structlog
from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier.outbound.credentials import (
    AccountSidTaken,
    CarrierAdapters,
    StoredCarrierAccount,
    delete_carrier_account,
    set_carrier_account,
    stored_carrier_accounts,
)
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
log = structlog.get_logger(__name__)


class TwilioSendingCredentials(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_sid: TwilioAccountSid = Field(
        description="The Twilio Account SID (`AC` and 32 hex digits)",
        examples=["AC0123456789abcdef0123456789abcdef"],
    )
    auth_token: CarrierSecret = Field(description="Its auth token (never shown again)")


class TelnyxSendingCredentials(BaseModel):
    model_config = ConfigDict(extra="forbid")

    api_key: CarrierSecret = Field(description="A Telnyx API key (v2) of the account (never shown again)")
    messaging_profile_id: UUID | None = Field(
        None, description="The messaging profile texts are sent with; the number's own when absent"
    )


class CarrierAccountView(BaseModel):
    carrier: Carrier
    account_sid: str | None = Field(None, description="Twilio: the Account SID texts are sent from")
    secret_hint: str = Field(
        description="The auth token's (Twilio) or API key's (Telnyx) last four characters, masked "
        "(`••••a1b2`); the secret itself is never shown"
    )
    messaging_profile_id: str | None = Field(None, description="Telnyx: the messaging profile, if set")
    updated_at: datetime


class ConnectionTest(BaseModel):
    ok: bool = Field(description="The carrier accepted the stored credentials")
    code: Literal["connected", "refused", "inactive", "profile_not_found", "unavailable", "unexpected"]
    message: str = Field(description="What the carrier said, in English (never the secret)")


def _view(stored: StoredCarrierAccount) -> CarrierAccountView:
    return CarrierAccountView(
        carrier=stored.carrier,  # type: ignore[arg-type]
        account_sid=stored.account_sid,
        secret_hint=secret_hint(stored.secret.get_secret_value()),
        messaging_profile_id=stored.messaging_profile_id,
        updated_at=stored.updated_at,
    )


def carrier_accounts_router(
    sessions: async_sessionmaker[AsyncSession],
    current_staff: CurrentStaffAuthenticated,
    adapters: CarrierAdapters,
) -> APIRouter:
    """`current_staff`: tokens checked against routing (active, current role); `adapters`: this
    process's cached carrier adapters, forgotten when their credentials change."""
    router = APIRouter(prefix="/api/v1/carrier-accounts", tags=["carrier accounts"])
    Admin = Annotated[Principal, Depends(admins_only(current_staff, ADMINS_ONLY))]
    errors = ADMIN_ENDPOINT_ERRORS

    async def stored(session: AsyncSession, caller: Principal, carrier: str) -> CarrierAccountView:
        [found] = [
            s for s in await stored_carrier_accounts(session, caller.account_id) if s.carrier == carrier
        ]
        return _view(found)

    def changed(caller: Principal, carrier: Carrier, what: str, **fields: str) -> None:
        adapters.forget(caller.account_id, carrier)
        log_credentials_change("carrier sending credentials changed", caller, carrier, what, **fields)

    @router.get(
        "",
        response_model=list[CarrierAccountView],
        summary="The carrier credentials texts are sent with (no secrets)",
        responses=errors,
    )
    async def list_accounts(caller: Admin) -> list[CarrierAccountView]:
        async with sessions() as session:
            return [_view(s) for s in await stored_carrier_accounts(session, caller.account_id)]

    @router.put(
        "/twilio",
        response_model=CarrierAccountView,
        summary="Set the Twilio account the dealership's texts are sent from",
        description="409 when the Account SID is already set up for another dealership. Set the "
        "webhook side in ingest too.",
        responses={**errors, 409: ERROR_RESPONSE_SCHEMA, 422: ERROR_RESPONSE_SCHEMA},
    )
    async def put_twilio(caller: Admin, body: TwilioSendingCredentials) -> CarrierAccountView:
        try:
            async with sessions.begin() as session:
                await set_carrier_account(
                    session,
                    caller.account_id,
                    "twilio",
                    body.auth_token.get_secret_value(),
                    account_sid=body.account_sid,
                )
                view = await stored(session, caller, "twilio")
        except AccountSidTaken as exc:
            raise account_sid_taken(body.account_sid) from exc
        changed(caller, "twilio", "set", account_sid=body.account_sid)
        return view

    @router.put(
        "/telnyx",
        response_model=CarrierAccountView,
        summary="Set the Telnyx API key the dealership's texts are sent with",
        description="Set the webhook side (the public key) in ingest too.",
        responses={**errors, 422: ERROR_RESPONSE_SCHEMA},
    )
    async def put_telnyx(caller: Admin, body: TelnyxSendingCredentials) -> CarrierAccountView:
        profile = str(body.messaging_profile_id) if body.messaging_profile_id else None
        async with sessions.begin() as session:
            await set_carrier_account(
                session,
                caller.account_id,
                "telnyx",
                body.api_key.get_secret_value(),
                messaging_profile_id=profile,
            )
            view = await stored(session, caller, "telnyx")
        changed(caller, "telnyx", "set")
        return view

    @router.post(
        "/{carrier}/test",
        response_model=ConnectionTest,
        summary="Ask the carrier whether it accepts the stored credentials (nothing is sent)",
        description="Twilio: `GET /2010-04-01/Accounts/{AccountSid}.json`; Telnyx: the messaging "
        "profile when one is set, else the balance. `ok` false with a `code` (`refused`, "
        "`inactive`, `profile_not_found`, `unavailable`, `unexpected`) when the carrier did not "
        "accept them or could not be asked; 404 when no credentials are set.",
        responses={**errors, 404: ERROR_RESPONSE_SCHEMA, 422: ERROR_RESPONSE_SCHEMA},
    )
    async def test_account(carrier: Carrier, caller: Admin) -> ConnectionTest:
        result = await adapters.check(caller.account_id, carrier)
        if result is None:
            raise no_credentials(carrier)
        log.info("carrier credentials tested", carrier=carrier, ok=result.ok, code=result.code)
        return ConnectionTest(ok=result.ok, code=result.code, message=result.message)

    @router.delete(
        "/{carrier}",
        status_code=204,
        response_class=Response,
        summary="Forget a carrier's credentials: texts through it fail as `no_credentials`",
        responses={**errors, 404: ERROR_RESPONSE_SCHEMA, 422: ERROR_RESPONSE_SCHEMA},
    )
    async def delete_account(carrier: Carrier, caller: Admin) -> Response:
        async with sessions.begin() as session:
            found = await delete_carrier_account(session, caller.account_id, carrier)
        if not found:
            raise no_credentials(carrier)
        changed(caller, carrier, "deleted")
        return Response(status_code=204)

    return router
