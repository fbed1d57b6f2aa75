"""Admins choose who hears about messages in unassigned conversations; by default the
account's admins (the list routing resolves)."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier import preferences
from notifier.api.staff import staff_dependency
from notifier.email.directory import DirectoryUnavailable, UserDirectory, UserNotFound
from notifier.settings import NotifierSettings
from shared.http.auth import Authenticated, Principal
from shared.http.errors import ERROR_RESPONSE_SCHEMA, ApiError


class UnassignedRecipients(BaseModel):
    default: bool = Field(description="True: the account's admins are told (nothing configured)")
    user_ids: list[UUID] = Field(description="The configured recipients; empty while `default`")


class UnassignedRecipientsChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_ids: list[UUID] = Field(
        min_length=1,
        max_length=100,
        description="Active staff of the account; at least one, so a customer is never missed",
    )


def recipients_router(
    settings: NotifierSettings, sessions: async_sessionmaker[AsyncSession], directory: UserDirectory
) -> APIRouter:
    router = APIRouter(prefix="/api/v1/notification-settings/unassigned-recipients", tags=["notifications"])
    staff = staff_dependency(Authenticated(settings))

    async def admin(principal: Annotated[Principal, Depends(staff)]) -> Principal:
        if not principal.is_admin:
            raise ApiError(403, "forbidden", "admins only")
        # The token's role may be stale (a demoted admin, a deactivated user): routing, which
        # owns users, has the word on who is an admin now.
        try:
            member = await directory.get(principal.account_id, principal.user_id)
        except UserNotFound as exc:
            raise ApiError(401, "unauthorized", "unknown user") from exc
        except DirectoryUnavailable as exc:
            raise ApiError(503, "unavailable", "staff directory unavailable; try again") from exc
        if not member.active:
            raise ApiError(401, "unauthorized", "this user is deactivated")
        if member.role != "admin":
            raise ApiError(403, "forbidden", "admins only")
        return principal

    Admin = Annotated[Principal, Depends(admin)]
    errors = {401: ERROR_RESPONSE_SCHEMA, 403: ERROR_RESPONSE_SCHEMA, 503: ERROR_RESPONSE_SCHEMA}

    async def current(session: AsyncSession, account_id: UUID) -> UnassignedRecipients:
        configured = await preferences.unassigned_recipients(session, account_id)
        return UnassignedRecipients(default=configured is None, user_ids=configured or [])

    @router.get(
        "",
        response_model=UnassignedRecipients,
        summary="Who hears about unassigned conversations",
        responses=errors,
    )
    async def read(caller: Admin) -> UnassignedRecipients:
        async with sessions() as session:
            return await current(session, caller.account_id)

    @router.put(
        "",
        response_model=UnassignedRecipients,
        summary="Choose who hears about unassigned conversations",
        responses={**errors, 422: ERROR_RESPONSE_SCHEMA},
    )
    async def change(caller: Admin, body: UnassignedRecipientsChange) -> UnassignedRecipients:
        user_ids = list(dict.fromkeys(body.user_ids))
        unknown: list[str] = []
        for user_id in user_ids:
            try:
                member = await directory.get(caller.account_id, user_id)
            except UserNotFound:
                unknown.append(str(user_id))
                continue
            except DirectoryUnavailable as exc:
                raise ApiError(503, "unavailable", "staff directory unavailable; try again") from exc
            if not member.active:
                unknown.append(str(user_id))
        if unknown:
            raise ApiError(
                422, "invalid_request", "no active staff member with these ids", {"user_ids": unknown}
            )
        async with sessions.begin() as session:
            await preferences.save_unassigned_recipients(session, caller.account_id, user_ids, caller.user_id)
            return await current(session, caller.account_id)

    @router.delete(
        "",
        response_model=UnassignedRecipients,
        summary="Back to the default: the account's admins",
        responses=errors,
    )
    async def reset(caller: Admin) -> UnassignedRecipients:
        async with sessions.begin() as session:
            await preferences.reset_unassigned_recipients(session, caller.account_id)
            return await current(session, caller.account_id)

    return router
