"""The staff list (any staff member and service tokens read it: the assign menu, notifier's
e-mail addresses) and an admin's changes to one staff member."""

from dataclasses import asdict
from uuid import UUID

from fastapi import APIRouter, Query
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from routing.admin.models import StaffUser, UpdateUserRequest
from routing.admin.routes.refusals import (
    FORBIDDEN,
    INVALID,
    caller_with_role,
    conflict,
    not_found,
    now,
    refusals,
)
from routing.admin.usecases import users as admin_users
from routing.staff_auth import StaffAuthenticated


def staff_routes(sessions: async_sessionmaker[AsyncSession], auth: StaffAuthenticated) -> APIRouter:
    router = APIRouter(tags=["staff"])
    Admin = caller_with_role(auth, "admin")
    StaffOrService = caller_with_role(auth, "admin", "agent", "service")

    @router.get(
        "/users",
        response_model=list[StaffUser],
        summary="List the dealership's staff",
        description="Everyone, by name, with their teams; `active=true` for the assign menu. Any "
        "staff member may read it, and service tokens too.",
    )
    async def list_users(
        caller: StaffOrService,
        active: bool | None = Query(None, description="Only active (true) or deactivated (false) users"),
    ) -> list[StaffUser]:
        async with sessions() as session:
            members = await admin_users.list_staff(session, caller.account_id, active)
        return [StaffUser(**asdict(member)) for member in members]

    @router.get(
        "/users/{user_id}", response_model=StaffUser, summary="One staff member", responses=not_found("user")
    )
    async def get_user(user_id: UUID, caller: StaffOrService) -> StaffUser:
        with refusals():
            async with sessions() as session:
                member = await admin_users.get_staff_member(session, caller.account_id, user_id)
        return StaffUser(**asdict(member))

    @router.patch(
        "/users/{user_id}",
        response_model=StaffUser,
        summary="Change, deactivate or reactivate a staff member (admin)",
        description="Only the fields given change. Deactivating keeps everything the user did; they "
        "can no longer log in, their tokens stop working within seconds, and they leave their teams. "
        "Refused with 409 `cannot_change_self` when you deactivate or demote yourself, "
        "`last_admin` when the account would have no active admin left, `email_taken`.",
        responses={
            **FORBIDDEN,
            **not_found("user"),
            **conflict("last_admin", "the account must keep at least one active admin"),
            **INVALID,
        },
    )
    async def update_user(user_id: UUID, body: UpdateUserRequest, caller: Admin) -> StaffUser:
        changes = admin_users.StaffChanges(**body.model_dump(exclude_none=True))
        with refusals():
            async with sessions.begin() as session:
                member = await admin_users.change_staff_member(
                    session, caller.account_id, caller.user_id, user_id, changes, now()
                )
        # Role or active flag may have changed: this process must not trust its cache for them.
        auth.forget(caller.account_id, user_id)
        return StaffUser(**asdict(member))

    return router
