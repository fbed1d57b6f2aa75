"""Teams: any staff member reads them (the assign menu); admins create, rename, staff and delete
them."""

from dataclasses import asdict
from uuid import UUID

from fastapi import APIRouter, Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from routing.admin.models import CreateTeamRequest, RenameTeamRequest, TeamMembersRequest, TeamView
from routing.admin.routes.refusals import (
    FORBIDDEN,
    INVALID,
    STAFF_ONLY,
    caller_with_role,
    conflict,
    not_found,
    now,
    refusals,
)
from routing.admin.usecases import teams as admin_teams
from routing.staff_auth import StaffAuthenticated
from shared.http.errors import error_response

INVALID_MEMBERS = {
    422: error_response(
        "A member id is not an active user of your account (or the request is not valid)",
        "invalid_members",
        "every member must be an active user of your account",
    )
}


def team_routes(sessions: async_sessionmaker[AsyncSession], auth: StaffAuthenticated) -> APIRouter:
    router = APIRouter(tags=["teams"])
    Admin = caller_with_role(auth, "admin")
    Staff = caller_with_role(auth, "admin", "agent")

    @router.get(
        "/teams",
        response_model=list[TeamView],
        summary="List the dealership's teams",
        description="By name, with their members. Any staff member may read it.",
        responses=STAFF_ONLY,
    )
    async def list_teams(caller: Staff) -> list[TeamView]:
        async with sessions() as session:
            teams = await admin_teams.list_teams(session, caller.account_id)
        return [TeamView(**asdict(team)) for team in teams]

    @router.get(
        "/teams/{team_id}",
        response_model=TeamView,
        summary="One team",
        responses={**STAFF_ONLY, **not_found("team")},
    )
    async def get_team(team_id: UUID, caller: Staff) -> TeamView:
        with refusals():
            async with sessions() as session:
                team = await admin_teams.get_team(session, caller.account_id, team_id)
        return TeamView(**asdict(team))

    @router.post(
        "/teams",
        response_model=TeamView,
        status_code=201,
        summary="Create a team (admin)",
        responses={
            **FORBIDDEN,
            **conflict("team_name_taken", "a team with this name already exists"),
            **INVALID_MEMBERS,
        },
    )
    async def create_team(body: CreateTeamRequest, caller: Admin) -> TeamView:
        with refusals():
            async with sessions.begin() as session:
                team = await admin_teams.create_team(
                    session, caller.account_id, body.name, body.member_ids, now()
                )
        return TeamView(**asdict(team))

    @router.patch(
        "/teams/{team_id}",
        response_model=TeamView,
        summary="Rename a team (admin)",
        responses={
            **FORBIDDEN,
            **not_found("team"),
            **conflict("team_name_taken", "a team with this name already exists"),
            **INVALID,
        },
    )
    async def rename_team(team_id: UUID, body: RenameTeamRequest, caller: Admin) -> TeamView:
        with refusals():
            async with sessions.begin() as session:
                team = await admin_teams.rename_team(session, caller.account_id, team_id, body.name)
        return TeamView(**asdict(team))

    @router.put(
        "/teams/{team_id}/members",
        response_model=TeamView,
        summary="Set a team's members (admin)",
        description="Replaces the whole member list; an empty list leaves the team without members.",
        responses={**FORBIDDEN, **not_found("team"), **INVALID_MEMBERS},
    )
    async def set_team_members(team_id: UUID, body: TeamMembersRequest, caller: Admin) -> TeamView:
        with refusals():
            async with sessions.begin() as session:
                team = await admin_teams.set_team_members(session, caller.account_id, team_id, body.user_ids)
        return TeamView(**asdict(team))

    @router.delete(
        "/teams/{team_id}",
        status_code=204,
        summary="Delete a team (admin)",
        description="Refused with 409 `team_in_use` while conversations (open, closed or archived) "
        "are assigned to it: reassign them first.",
        responses={
            **FORBIDDEN,
            **not_found("team"),
            **conflict("team_in_use", "3 conversation(s) are assigned to this team; reassign them first"),
        },
    )
    async def delete_team(team_id: UUID, caller: Admin) -> Response:
        with refusals():
            async with sessions.begin() as session:
                await admin_teams.delete_team(session, caller.account_id, team_id)
        return Response(status_code=204)

    return router
