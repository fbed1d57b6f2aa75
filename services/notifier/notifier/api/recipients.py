"""Admins choose who hears about messages in unassigned conversations; by default the
account's admins (the list routing resolves)."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier import preferences
from notifier.email.directory import DirectoryUnavailable, UserDirectory, UserNotFound
from shared.http.auth import Principal
from shared.http.errors import ERROR_RESPONSE_SCHEMA, ApiError
from shared.http.staff import CurrentStaffAuthenticated, admins_only


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
    sessions: async_sessionmaker[AsyncSession],
    current_staff: CurrentStaffAuthenticated,
    directory: UserDirectory,
) -> APIRouter:
    """`current_staff`: tokens checked against routing, so a demoted admin or a deactivated user
    is refused whatever their token says; `directory`: routing's users, for the chosen ids."""
    router = APIRouter(prefix="/api/v1/notification-settings/unassigned-recipients", tags=["notifications"])
    Admin = Annotated[
        Principal, Depends(admins_only(current_staff, "only an admin chooses who hears about these"))
    ]
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
