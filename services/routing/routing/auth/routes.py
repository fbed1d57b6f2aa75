"""Signing in, and a person's dealerships (dealer groups): one login, a token for one dealership
at a time, a switch to another one they work at."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from routing.auth.models import (
    DealershipView,
    LoginRequest,
    SignedInResponse,
    SwitchRequest,
)
from routing.auth.throttle import LoginThrottle
from routing.auth.usecases import (
    DealershipSuspended,
    InvalidCredentials,
    NotAMember,
    SignedIn,
    dealerships_of,
    login,
    switch_dealership,
)
from routing.staff_auth import SUSPENDED_MESSAGE, StaffAuthenticated
from shared.http.auth import Principal
from shared.http.errors import ApiError, error_response
from shared.settings import ServiceSettings

SUSPENDED = error_response(
    "The dealership is suspended by the operator", "dealership_suspended", SUSPENDED_MESSAGE
)

TOO_MANY_ATTEMPTS = error_response(
    "Too many failed sign-ins for this e-mail or from this address; `Retry-After` says when to try again",
    "too_many_attempts",
    "too many failed sign-ins; try again later",
)


def _answer(signed_in: SignedIn) -> SignedInResponse:
    return SignedInResponse(
        access_token=signed_in.access_token,
        account_id=signed_in.account_id,
        dealerships=[
            DealershipView(
                account_id=place.account_id,
                name=place.name,
                role=place.role,
                current=place.account_id == signed_in.account_id,
                suspended=place.suspended,
            )
            for place in signed_in.dealerships
        ],
    )


def auth_router(
    settings: ServiceSettings,
    sessions: async_sessionmaker[AsyncSession],
    auth: StaffAuthenticated,
    throttle: LoginThrottle,
) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["auth"])

    async def staff(principal: Annotated[Principal, Depends(auth)]) -> Principal:
        if principal.role == "service":
            raise ApiError(403, "forbidden", "staff only")
        return principal

    Staff = Annotated[Principal, Depends(staff)]

    @router.post(
        "/auth/login",
        response_model=SignedInResponse,
        summary="Log in with e-mail and password",
        description="A token for one dealership: the one the person last worked in, else the first "
        "by name. `dealerships` lists every dealership they work at (switch with "
        "`POST /api/v1/auth/switch`). 401 `invalid_credentials` for a wrong e-mail or password; "
        "403 `dealership_suspended` when every dealership of theirs is suspended.",
        responses={
            401: error_response(
                "Wrong e-mail or password", "invalid_credentials", "wrong e-mail or password"
            ),
            403: SUSPENDED,
            429: TOO_MANY_ATTEMPTS,
        },
    )
    async def login_route(body: LoginRequest, request: Request) -> SignedInResponse:
        address = request.client.host if request.client else "unknown"
        now = datetime.now(UTC)
        async with sessions.begin() as session:
            wait = await throttle.seconds_to_wait(session, body.email, address, now)
        if wait:
            raise ApiError(
                429,
                "too_many_attempts",
                "too many failed sign-ins; try again later",
                {"retry_after_seconds": wait},
                headers={"Retry-After": str(wait)},
            )
        try:
            async with sessions.begin() as session:
                signed_in = await login(session, settings, body.email, body.password)
                await throttle.record_success(session, body.email, address)
        except InvalidCredentials as exc:
            async with sessions.begin() as session:
                await throttle.record_failure(session, body.email, address, now)
            raise ApiError(401, "invalid_credentials", "wrong e-mail or password") from exc
        except DealershipSuspended as exc:
            raise ApiError(403, "dealership_suspended", SUSPENDED_MESSAGE) from exc
        return _answer(signed_in)

    @router.post(
        "/auth/switch",
        response_model=SignedInResponse,
        summary="Work in another of my dealerships",
        description="A token for `account_id`, a dealership the caller works at; the caller's "
        "current token stays valid until it expires. 404 when they do not work there (or it does "
        "not exist), 403 `dealership_suspended` when it is suspended.",
        responses={
            401: error_response("No token, or it was refused", "unauthorized", "invalid or expired token"),
            403: SUSPENDED,
            404: error_response("Not one of the caller's dealerships", "not_found", "dealership not found"),
        },
    )
    async def switch_route(body: SwitchRequest, caller: Staff) -> SignedInResponse:
        async with sessions.begin() as session:
            try:
                signed_in = await switch_dealership(
                    session, settings, caller.user_id, caller.account_id, body.account_id
                )
            except NotAMember as exc:
                raise ApiError(404, "not_found", "dealership not found") from exc
            except DealershipSuspended as exc:
                raise ApiError(403, "dealership_suspended", SUSPENDED_MESSAGE) from exc
        return _answer(signed_in)

    @router.get(
        "/me/dealerships",
        response_model=list[DealershipView],
        tags=["staff"],
        summary="The dealerships I work at",
        description="Every dealership where the caller is active staff, by name; `current` marks "
        "the token's. One entry for most people.",
        responses={
            401: error_response("No token, or it was refused", "unauthorized", "invalid or expired token")
        },
    )
    async def my_dealerships(caller: Staff) -> list[DealershipView]:
        async with sessions() as session:
            places = await dealerships_of(session, caller.user_id, caller.account_id)
        return [
            DealershipView(
                account_id=place.account_id,
                name=place.name,
                role=place.role,
                current=place.account_id == caller.account_id,
                suspended=place.suspended,
            )
            for place in places
        ]

    return router
