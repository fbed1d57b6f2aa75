"""Admin-only: staff, teams, the dealership's numbers and its settings, one route module each.
Any staff member may read the staff and team lists (the assign menu needs them), their own
profile and the settings; service tokens may read the staff list (notifier needs e-mail
addresses). Every route is scoped to the caller's account: an id of another account is answered
exactly like a missing one."""

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from routing.admin.routes.account_settings import account_settings_routes
from routing.admin.routes.me import me_routes
from routing.admin.routes.phone_numbers import phone_number_routes
from routing.admin.routes.refusals import UNAUTHORIZED
from routing.admin.routes.staff import staff_routes
from routing.admin.routes.teams import team_routes
from routing.settings import RoutingSettings
from routing.staff_auth import StaffAuthenticated


def admin_router(
    settings: RoutingSettings, sessions: async_sessionmaker[AsyncSession], auth: StaffAuthenticated
) -> APIRouter:
    router = APIRouter(prefix="/api/v1", responses=UNAUTHORIZED)
    # In this order: it is the order of the paths in the OpenAPI document (its snapshot test).
    router.include_router(staff_routes(sessions, auth))
    router.include_router(me_routes(sessions, auth))
    router.include_router(team_routes(sessions, auth))
    router.include_router(phone_number_routes(settings, sessions, auth))
    router.include_router(account_settings_routes(sessions, auth))
    return router
