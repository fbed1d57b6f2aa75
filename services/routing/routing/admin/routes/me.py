"""The caller's own profile: who they are, their teams and dealerships, and their language and
time zone, which any staff member sets for themselves."""

from dataclasses import asdict

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from routing.admin.models import Me, TeamRef, UpdateMeRequest
from routing.admin.routes.refusals import INVALID, STAFF_ONLY, caller_with_role, refusals
from routing.admin.usecases import teams as admin_teams
from routing.admin.usecases import users as admin_users
from routing.auth.models import DealershipView
from routing.auth.usecases import dealerships_of
from routing.staff_auth import StaffAuthenticated


def me_routes(sessions: async_sessionmaker[AsyncSession], auth: StaffAuthenticated) -> APIRouter:
    router = APIRouter(tags=["staff"])
    Staff = caller_with_role(auth, "admin", "agent")

    @router.get(
        "/me",
        response_model=Me,
        summary="Who I am",
        description="The caller's profile, role and teams.",
        responses=STAFF_ONLY,
    )
    async def get_me(caller: Staff) -> Me:
        with refusals():
            async with sessions() as session:
                member = await admin_users.get_staff_member(session, caller.account_id, caller.user_id)
                teams = await admin_teams.list_teams(session, caller.account_id)
                places = await dealerships_of(session, caller.user_id, caller.account_id)
        mine = [TeamRef(id=team.id, name=team.name) for team in teams if team.id in member.team_ids]
        dealerships = [
            DealershipView(**asdict(place), current=place.account_id == caller.account_id) for place in places
        ]
        return Me(**asdict(member), account_id=caller.account_id, teams=mine, dealerships=dealerships)

    @router.patch(
        "/me",
        response_model=Me,
        summary="Change my language or time zone",
        description="Any staff member sets their own preferences: `language` (`en`, `fr_CA`) and "
        "`time_zone` (an IANA zone). Only the fields given change; null goes back to the default "
        "(the browser's language, the dealership's time zone). Anything else is 422.",
        responses={**STAFF_ONLY, **INVALID},
    )
    async def update_me(body: UpdateMeRequest, caller: Staff) -> Me:
        with refusals():
            async with sessions.begin() as session:
                await admin_users.set_own_preferences(
                    session, caller.account_id, caller.user_id, body.changes()
                )
        return await get_me(caller)

    return router
