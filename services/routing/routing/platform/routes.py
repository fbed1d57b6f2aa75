"""`/platform/v1`: the operator API. Operator tokens only (a staff JWT is refused like any wrong
token); every call that an operator makes leaves an audit line, refusals included."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from routing.cursors import InvalidCursor, decode_cursor, encode_cursor
from routing.platform import queries
from routing.platform.models import (
    AuditLineView,
    AuditPage,
    CreatedDealership,
    CreateDealershipRequest,
    DealershipPage,
    DealershipView,
    InvitationLink,
    SuspendRequest,
)
from routing.platform.usage import DealershipUsage, UsageSources
from routing.platform.usecases import audit
from routing.platform.usecases import dealerships as usecases
from routing.platform.usecases.errors import DealershipNotFound, PlatformRefusal
from routing.settings import RoutingSettings
from shared.http.errors import ApiError, error_response
from shared.http.operator_auth import Operator, require_operator
from shared.http.usage import UsageMonth

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="Any unique text (a UUID): a retry with the same key answers the same dealership",
    ),
]
OPERATOR_ONLY = {
    401: error_response(
        "No operator token, or a wrong one (a staff token is refused here too)",
        "unauthorized",
        "invalid operator token",
    ),
}
NOT_FOUND = {404: error_response("No such dealership", "not_found", "dealership not found")}


def _now() -> datetime:
    return datetime.now(UTC)


def dealership_view(dealership: queries.Dealership) -> DealershipView:
    return DealershipView(
        id=dealership.id,
        name=dealership.name,
        time_zone=dealership.time_zone,
        language=dealership.language,  # type: ignore[arg-type]
        status=dealership.status,  # type: ignore[arg-type]
        status_changed_at=dealership.status_changed_at,
        created_at=dealership.created_at,
        staff_count=dealership.staff_count,
        usage=None,
    )


def created_view(dealership: usecases.ProvisionedDealership) -> CreatedDealership:
    return CreatedDealership(
        id=dealership.account_id,
        name=dealership.name,
        time_zone=dealership.time_zone,
        language=dealership.language,
        status=dealership.status,  # type: ignore[arg-type]
        created_at=dealership.created_at,
        admin_invitation=InvitationLink(
            id=dealership.invitation_id,
            email=dealership.admin_email,
            name=dealership.admin_name,
            link=dealership.invitation_link,
            expires_at=dealership.invitation_expires_at,
        ),
    )


def platform_router(
    settings: RoutingSettings,
    sessions: async_sessionmaker[AsyncSession],
    on_events: Callable[[], None] = lambda: None,
) -> APIRouter:
    router = APIRouter(prefix="/platform/v1", tags=["platform (operators)"], responses=OPERATOR_ONLY)
    usage = DealershipUsage(
        UsageSources(
            {
                "ingest": settings.ingest_url,
                "notifier": settings.notifier_url,
                "exporter": settings.exporter_url,
            },
            settings.usage_timeout_seconds,
        )
    )
    Caller = Annotated[Operator, Depends(require_operator(settings))]

    @asynccontextmanager
    async def refusals_audited(
        operator: Operator, action: str, account_id: UUID | None
    ) -> AsyncIterator[None]:
        """A refused call changed nothing (its transaction rolled back): its line is written
        apart, then the refusal answered."""
        try:
            yield
        except PlatformRefusal as exc:
            async with sessions.begin() as session:
                await audit.record(session, operator, action, _now(), account_id=account_id, outcome=exc.code)
            raise ApiError(exc.status, exc.code, str(exc)) from exc

    async def audited_read(operator: Operator, action: str, account_id: UUID | None = None) -> None:
        async with sessions.begin() as session:
            await audit.record(session, operator, action, _now(), account_id=account_id)

    @router.post(
        "/dealerships",
        status_code=201,
        response_model=CreatedDealership,
        summary="Create a dealership and invite its first admin",
        description="Creates the dealership (`dealership.provisioned.v1`: each service sets up its "
        "part) and invites its first admin, who is e-mailed a link to set their password; the "
        "link is in the answer too, for the operator to hand over. With `Idempotency-Key`, a "
        "retry answers the same (201, same body, `Idempotent-Replayed: true`) instead of creating "
        "a second dealership; the same key with a different body is 422 `idempotency_key_reused`. "
        "An admin who already works at another dealership (a dealer group) accepts with the "
        "password they have. 422 for an unknown time zone or a malformed e-mail.",
        responses={
            422: error_response("Invalid body, or a reused key", "idempotency_key_reused", "key reused"),
        },
    )
    async def create(
        body: CreateDealershipRequest, operator: Caller, response: Response, key: IdempotencyKey = None
    ) -> CreatedDealership:
        new = usecases.NewDealership(
            body.name, body.time_zone, body.language, body.admin.name, body.admin.email
        )
        async with refusals_audited(operator, "dealership.create", None), sessions.begin() as session:
            outcome = await usecases.create_dealership(session, settings, new, operator, _now(), key)
        if outcome.created:
            on_events()
        else:
            response.headers["Idempotent-Replayed"] = "true"
        return created_view(outcome.dealership)

    @router.get("/dealerships", response_model=DealershipPage, summary="Dealerships, oldest first")
    async def list_dealerships(
        operator: Caller,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        cursor: Annotated[str | None, Query(max_length=200)] = None,
        status: Literal["active", "suspended"] | None = None,
    ) -> DealershipPage:
        try:
            after = decode_cursor(cursor) if cursor else None
        except InvalidCursor as exc:
            raise ApiError(422, "invalid_cursor", str(exc)) from exc
        async with sessions() as session:
            found = await queries.list_dealerships(session, limit + 1, after, status)
        await audited_read(operator, "dealership.list")
        page = found[:limit]
        more = len(found) > limit
        return DealershipPage(
            items=[dealership_view(d) for d in page],
            next_cursor=encode_cursor(page[-1].created_at, page[-1].id) if more else None,
        )

    @router.get(
        "/dealerships/{account_id}",
        response_model=DealershipView,
        summary="One dealership, with its usage",
        responses=NOT_FOUND,
    )
    async def get_dealership(
        account_id: UUID,
        operator: Caller,
        request: Request,
        month: Annotated[
            str | None,
            Query(max_length=20, description="Usage of this month, YYYY-MM (UTC); this month by default"),
        ] = None,
    ) -> DealershipView:
        try:
            period = str(UsageMonth.parse(month) if month else UsageMonth.of(_now()))
        except ValueError as exc:
            raise ApiError(422, "invalid_month", str(exc), {"month": month}) from exc
        async with refusals_audited(operator, "dealership.get", account_id):
            async with sessions() as session:
                found = await queries.find_dealership(session, account_id)
            if found is None:
                raise DealershipNotFound("dealership not found")
        await audited_read(operator, "dealership.get", account_id)
        # Counted by the services that see each event (platform/usage.py), asked with the caller's token.
        counted = await usage.of(account_id, period, request.headers.get("authorization", ""))
        return dealership_view(found).model_copy(update={"usage": counted})

    @router.post(
        "/dealerships/{account_id}/suspend",
        response_model=DealershipView,
        summary="Suspend a dealership",
        description="Its staff is refused and it sends nothing until it resumes; what customers, "
        "carriers and the DMS send is still accepted; nothing is deleted "
        "(`dealership.suspended.v1`). Suspending a suspended dealership changes nothing.",
        responses=NOT_FOUND,
    )
    async def suspend(
        account_id: UUID, operator: Caller, body: SuspendRequest | None = None
    ) -> DealershipView:
        reason = body.reason if body else None
        async with refusals_audited(operator, "dealership.suspend", account_id), sessions.begin() as session:
            found = await usecases.suspend_dealership(session, account_id, operator, _now(), reason)
        on_events()
        return dealership_view(found)

    @router.post(
        "/dealerships/{account_id}/resume",
        response_model=DealershipView,
        summary="Resume a suspended dealership",
        description="Everything works again (`dealership.resumed.v1`).",
        responses=NOT_FOUND,
    )
    async def resume(account_id: UUID, operator: Caller) -> DealershipView:
        async with refusals_audited(operator, "dealership.resume", account_id), sessions.begin() as session:
            found = await usecases.resume_dealership(session, account_id, operator, _now())
        on_events()
        return dealership_view(found)

    @router.get("/audit", response_model=AuditPage, summary="Operator calls, newest first")
    async def audit_trail(
        operator: Caller,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        before: Annotated[int | None, Query(ge=1, description="`next_cursor` of the previous page")] = None,
        account_id: UUID | None = None,
    ) -> AuditPage:
        async with sessions() as session:
            lines = await queries.audit_lines(session, limit + 1, before, account_id)
        await audited_read(operator, "audit.read")
        page = lines[:limit]
        return AuditPage(
            items=[AuditLineView(**line.__dict__) for line in page],
            next_cursor=str(page[-1].id) if len(lines) > limit else None,
        )

    return router
