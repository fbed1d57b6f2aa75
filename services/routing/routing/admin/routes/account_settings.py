"""The dealership's settings: staff and the platform's services read them (the exporter prints
the dealership's name and time zone); admins change them."""

from dataclasses import asdict

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from routing.admin.models import AccountSettingsView, UpdateSettingsRequest
from routing.admin.routes.refusals import (
    FORBIDDEN,
    INVALID,
    STAFF_ONLY,
    caller_with_role,
    not_found,
    refusals,
)
from routing.admin.usecases import settings as admin_settings
from routing.staff_auth import StaffAuthenticated


def account_settings_routes(
    sessions: async_sessionmaker[AsyncSession], auth: StaffAuthenticated
) -> APIRouter:
    router = APIRouter(tags=["settings"])
    Admin = caller_with_role(auth, "admin")
    StaffOrService = caller_with_role(auth, "admin", "agent", "service")

    @router.get(
        "/account/settings",
        response_model=AccountSettingsView,
        summary="The dealership's settings",
        description="Any staff member may read them, and the platform's services (the exporter "
        "prints the dealership's name and its time zone).",
        responses={**STAFF_ONLY, **not_found("account")},
    )
    async def get_settings(caller: StaffOrService) -> AccountSettingsView:
        with refusals():
            async with sessions() as session:
                current = await admin_settings.get_settings(session, caller.account_id)
        return AccountSettingsView(**asdict(current))

    @router.patch(
        "/account/settings",
        response_model=AccountSettingsView,
        summary="Change the dealership's settings (admin)",
        responses={**FORBIDDEN, **not_found("account"), **INVALID},
    )
    async def update_settings(body: UpdateSettingsRequest, caller: Admin) -> AccountSettingsView:
        with refusals():
            async with sessions.begin() as session:
                current = await admin_settings.change_settings(session, caller.account_id, body.changes())
        return AccountSettingsView(**asdict(current))

    return router
