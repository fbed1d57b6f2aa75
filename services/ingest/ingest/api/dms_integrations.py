"""A dealership's admin manages its DMS integrations: one per integrator, each authenticated by
a secret shown once (at creation and at each rotation) and stored only as a hash. A rotation
keeps the previous secret working for an overlap (`DMS_SECRET_OVERLAP_HOURS`, 24 h by default,
or the `overlap_hours` asked for), so the integrator switches without losing an event; a
revocation refuses every secret of the integration at once. Nothing is deleted.

Admins only, checked against routing (agents get 403); every query is scoped by the caller's
account, another account's integration is 404. Each change leaves an audit log line (who, what,
which integration), never the secret."""

import unicodedata
from datetime import datetime, timedelta
from typing import Annotated, Literal
from uuid import UUID

import structlog
from fastapi import APIRouter, Body, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ingest.dms_integrations_repository import IntegrationRow, SecretRow
from ingest.domain.dms_secrets import MAX_OVERLAP
from ingest.usecases import dms_integrations as usecases
from shared.carriers.credentials_api import ADMIN_ENDPOINT_ERRORS
from shared.http.auth import Principal
from shared.http.errors import ERROR_RESPONSE_SCHEMA, ApiError
from shared.http.staff import CurrentStaffAuthenticated, admins_only

log = structlog.get_logger(__name__)

ADMINS_ONLY = "only an admin of the dealership may manage DMS integrations"
MAX_OVERLAP_HOURS = MAX_OVERLAP.total_seconds() / 3600
# A secret in an answer must not be kept by a browser or a proxy.
NO_STORE = {"cache-control": "no-store"}


class NewIntegration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] = Field(
        description="Who the integration is for (the integrator or the DMS), unique among the "
        "account's active integrations",
        examples=["CDK Drive"],
    )

    @field_validator("name")
    @classmethod
    def _printable(cls, value: str) -> str:
        if any(unicodedata.category(c).startswith("C") for c in value):
            raise ValueError("the name may not hold control characters")
        return value


class Rotation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    overlap_hours: float | None = Field(
        None,
        ge=0,
        le=MAX_OVERLAP_HOURS,
        description="How long the secrets in use keep working beside the new one (0: refused at once, "
        "for a secret that leaked); the service's default (24 h) when left out",
    )


class SecretView(BaseModel):
    hint: str | None = Field(None, description="The secret's first characters (`sbdms_AbCd…`), not a secret")
    created_at: datetime
    valid_until: datetime | None = Field(None, description="When a retiring secret stops working")
    last_used_at: datetime | None = Field(None, description="Last time it authenticated a request (±1 min)")


class IntegrationView(BaseModel):
    id: UUID
    name: str
    status: Literal["active", "revoked"]
    created_at: datetime
    last_used_at: datetime | None = Field(None, description="Last time any of its secrets was used (±1 min)")
    revoked_at: datetime | None = None
    current_secret: SecretView | None = Field(None, description="The secret in use (None once revoked)")
    retiring_secrets: list[SecretView] = Field(
        default_factory=list, description="Secrets a rotation replaced that still work until valid_until"
    )


class IssuedIntegration(IntegrationView):
    secret: str = Field(
        description="The new secret. Shown this once: Switchboard keeps only a hash of it. Send it as "
        "`Authorization: Bearer <secret>` to POST /api/v1/dms/events."
    )


def _secret_view(row: SecretRow | None) -> SecretView | None:
    if row is None:
        return None
    return SecretView(
        hint=row.hint, created_at=row.created_at, valid_until=row.valid_until, last_used_at=row.last_used_at
    )


def _view(row: IntegrationRow) -> IntegrationView:
    return IntegrationView(
        id=row.id,
        name=row.name,
        status="revoked" if row.revoked_at else "active",
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
        current_secret=_secret_view(row.current_secret),
        retiring_secrets=[s for s in map(_secret_view, row.retiring_secrets) if s],
    )


def _issued(issued: usecases.IssuedSecret, status: int) -> JSONResponse:
    body = IssuedIntegration(**_view(issued.integration).model_dump(), secret=issued.secret)
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=NO_STORE)


def _not_found() -> ApiError:
    return ApiError(404, "not_found", "no such DMS integration")


def _audit(event: str, caller: Principal, integration: IntegrationRow, **fields: object) -> None:
    log.info(
        event,
        account_id=str(caller.account_id),
        by_user_id=caller.subject,
        integration_id=str(integration.id),
        integration_name=integration.name,
        **fields,
    )


def dms_integrations_router(
    sessions: async_sessionmaker[AsyncSession], auth: CurrentStaffAuthenticated, default_overlap: timedelta
) -> APIRouter:
    router = APIRouter(prefix="/api/v1/dms/integrations", tags=["DMS integrations (admin)"])
    Admin = Annotated[Principal, Depends(admins_only(auth, ADMINS_ONLY))]
    not_found = {404: {**ERROR_RESPONSE_SCHEMA, "description": "No such integration in your account"}}

    @router.get(
        "",
        response_model=list[IntegrationView],
        summary="The dealership's DMS integrations (no secrets)",
        responses=ADMIN_ENDPOINT_ERRORS,
    )
    async def list_integrations(caller: Admin) -> list[IntegrationView]:
        return [_view(row) for row in await usecases.list_integrations(sessions, caller.account_id)]

    @router.post(
        "",
        status_code=201,
        response_model=IssuedIntegration,
        summary="Create an integration for an integrator: its secret is shown this once",
        responses={
            **ADMIN_ENDPOINT_ERRORS,
            409: {**ERROR_RESPONSE_SCHEMA, "description": "An active integration has this name (name_taken)"},
            422: ERROR_RESPONSE_SCHEMA,
        },
    )
    async def create(caller: Admin, body: NewIntegration) -> JSONResponse:
        try:
            issued = await usecases.create_integration(sessions, caller.account_id, body.name)
        except usecases.IntegrationNameTaken as exc:
            raise ApiError(
                409, "name_taken", "an active DMS integration already has this name", {"name": body.name}
            ) from exc
        _audit("dms integration created", caller, issued.integration)
        return _issued(issued, 201)

    @router.get(
        "/{integration_id}",
        response_model=IntegrationView,
        summary="One integration (no secret)",
        responses={**ADMIN_ENDPOINT_ERRORS, **not_found, 422: ERROR_RESPONSE_SCHEMA},
    )
    async def get(caller: Admin, integration_id: UUID) -> IntegrationView:
        try:
            return _view(await usecases.get_integration(sessions, caller.account_id, integration_id))
        except usecases.IntegrationNotFound as exc:
            raise _not_found() from exc

    @router.post(
        "/{integration_id}/rotate",
        response_model=IssuedIntegration,
        summary="Give the integration a new secret, shown this once; the old one works for an overlap",
        description="The secrets in use keep working for `overlap_hours` (the service's default, "
        "24 h, when left out) beside the new one, so the integrator switches without losing an "
        "event; `overlap_hours: 0` refuses them at once. 409 `integration_revoked` for a revoked one.",
        responses={
            **ADMIN_ENDPOINT_ERRORS,
            **not_found,
            409: {**ERROR_RESPONSE_SCHEMA, "description": "The integration is revoked"},
            422: ERROR_RESPONSE_SCHEMA,
        },
    )
    async def rotate(
        caller: Admin, integration_id: UUID, body: Annotated[Rotation | None, Body()] = None
    ) -> JSONResponse:
        hours = body.overlap_hours if body and body.overlap_hours is not None else None
        overlap = timedelta(hours=hours) if hours is not None else default_overlap
        try:
            issued = await usecases.rotate_secret(sessions, caller.account_id, integration_id, overlap)
        except usecases.IntegrationNotFound as exc:
            raise _not_found() from exc
        except usecases.IntegrationRevoked as exc:
            raise ApiError(
                409, "integration_revoked", "a revoked integration gets no new secret: create another"
            ) from exc
        _audit(
            "dms integration secret rotated",
            caller,
            issued.integration,
            overlap_seconds=overlap.total_seconds(),
        )
        return _issued(issued, 200)

    @router.post(
        "/{integration_id}/revoke",
        response_model=IntegrationView,
        summary="Revoke the integration: every secret of it is refused (401) from now on",
        description="Nothing is deleted: the integration stays listed as revoked. Revoking twice "
        "changes nothing.",
        responses={**ADMIN_ENDPOINT_ERRORS, **not_found, 422: ERROR_RESPONSE_SCHEMA},
    )
    async def revoke(caller: Admin, integration_id: UUID) -> IntegrationView:
        try:
            row = await usecases.revoke_integration(sessions, caller.account_id, integration_id)
        except usecases.IntegrationNotFound as exc:
            raise _not_found() from exc
        _audit("dms integration revoked", caller, row)
        return _view(row)

    return router
