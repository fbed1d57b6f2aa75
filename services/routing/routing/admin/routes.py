"""Admin-only: staff, teams, the dealership's numbers and its settings. Any staff member may read
the staff and team lists (the assign menu needs them), their own profile and the settings;
service tokens may read the staff list (notifier needs e-mail addresses). Every route is scoped
to the caller's account: an id of another account is answered exactly like a missing one."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from routing.admin.models import (
    AccountSettingsView,
    AddPhoneNumberRequest,
    CreateTeamRequest,
    Me,
    PhoneNumberView,
    RenameTeamRequest,
    StaffUser,
    TeamMembersRequest,
    TeamRef,
    TeamView,
    UpdateMeRequest,
    UpdateSettingsRequest,
    UpdateUserRequest,
)
from routing.admin.usecases import numbers as admin_numbers
from routing.admin.usecases import settings as admin_settings
from routing.admin.usecases import teams as admin_teams
from routing.admin.usecases import users as admin_users
from routing.admin.usecases.errors import (
    CannotChangeSelf,
    EmailTaken,
    InvalidMembers,
    LastAdmin,
    NotInAccount,
    NumberTaken,
    TeamInUse,
    TeamNameTaken,
)
from routing.auth.models import DealershipView
from routing.auth.usecases import dealerships_of
from routing.domain.phones import InvalidPhoneNumber
from routing.settings import RoutingSettings
from routing.staff_auth import StaffAuthenticated, role_guard
from shared.http.auth import Principal
from shared.http.errors import ApiError, error_response

UNAUTHORIZED = {
    401: error_response("No token, or the user was deactivated", "unauthorized", "invalid or expired token")
}
FORBIDDEN = {403: error_response("Admins only", "forbidden", "only admin may do this")}
STAFF_ONLY = {
    403: error_response("Staff only (not service tokens)", "forbidden", "only admin or agent may do this")
}
INVALID = {422: error_response("The request is not valid", "invalid_request", "the request is not valid")}


def _not_found(what: str) -> dict:
    return {404: error_response(f"No such {what} in your account", "not_found", f"{what} not found")}


def _conflict(code: str, message: str) -> dict:
    return {409: error_response("Refused: it would break a rule", code, message)}


@contextmanager
def _refusals() -> Iterator[None]:
    """The use cases' refusals as HTTP errors."""
    try:
        yield
    except NotInAccount as exc:
        raise ApiError(404, "not_found", str(exc)) from exc
    except EmailTaken as exc:
        raise ApiError(409, "email_taken", str(exc), [{"loc": ["body", "email"]}]) from exc
    except CannotChangeSelf as exc:
        raise ApiError(409, "cannot_change_self", str(exc)) from exc
    except LastAdmin as exc:
        raise ApiError(409, "last_admin", str(exc)) from exc
    except TeamNameTaken as exc:
        raise ApiError(409, "team_name_taken", str(exc), [{"loc": ["body", "name"]}]) from exc
    except TeamInUse as exc:
        raise ApiError(409, "team_in_use", str(exc), {"assigned_conversations": exc.conversations}) from exc
    except InvalidMembers as exc:
        raise ApiError(
            422, "invalid_members", str(exc), {"user_ids": [str(i) for i in exc.user_ids]}
        ) from exc
    except NumberTaken as exc:
        raise ApiError(409, "number_taken", "this number is already registered") from exc
    except InvalidPhoneNumber as exc:
        raise ApiError(422, "invalid_phone_number", str(exc), [{"loc": ["body", "number"]}]) from exc


def _now() -> datetime:
    return datetime.now(UTC)


def admin_router(
    settings: RoutingSettings, sessions: async_sessionmaker[AsyncSession], auth: StaffAuthenticated
) -> APIRouter:
    router = APIRouter(prefix="/api/v1", responses=UNAUTHORIZED)
    Admin = Annotated[Principal, Depends(role_guard(auth, "admin"))]
    Staff = Annotated[Principal, Depends(role_guard(auth, "admin", "agent"))]
    StaffOrService = Annotated[Principal, Depends(role_guard(auth, "admin", "agent", "service"))]

    # --- staff --------------------------------------------------------------------------------

    @router.get(
        "/users",
        response_model=list[StaffUser],
        tags=["staff"],
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
        "/users/{user_id}",
        response_model=StaffUser,
        tags=["staff"],
        summary="One staff member",
        responses=_not_found("user"),
    )
    async def get_user(user_id: UUID, caller: StaffOrService) -> StaffUser:
        with _refusals():
            async with sessions() as session:
                member = await admin_users.get_staff_member(session, caller.account_id, user_id)
        return StaffUser(**asdict(member))

    @router.get(
        "/me",
        response_model=Me,
        tags=["staff"],
        summary="Who I am",
        description="The caller's profile, role and teams.",
        responses=STAFF_ONLY,
    )
    async def get_me(caller: Staff) -> Me:
        with _refusals():
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
        tags=["staff"],
        summary="Change my language or time zone",
        description="Any staff member sets their own preferences: `language` (`en`, `fr_CA`) and "
        "`time_zone` (an IANA zone). Only the fields given change; null goes back to the default "
        "(the browser's language, the dealership's time zone). Anything else is 422.",
        responses={**STAFF_ONLY, **INVALID},
    )
    async def update_me(body: UpdateMeRequest, caller: Staff) -> Me:
        with _refusals():
            async with sessions.begin() as session:
                await admin_users.set_own_preferences(
                    session, caller.account_id, caller.user_id, body.changes()
                )
        return await get_me(caller)

    @router.patch(
        "/users/{user_id}",
        response_model=StaffUser,
        tags=["staff"],
        summary="Change, deactivate or reactivate a staff member (admin)",
        description="Only the fields given change. Deactivating keeps everything the user did; they "
        "can no longer log in, their tokens stop working within seconds, and they leave their teams. "
        "Refused with 409 `cannot_change_self` when you deactivate or demote yourself, "
        "`last_admin` when the account would have no active admin left, `email_taken`.",
        responses={
            **FORBIDDEN,
            **_not_found("user"),
            **_conflict("last_admin", "the account must keep at least one active admin"),
            **INVALID,
        },
    )
    async def update_user(user_id: UUID, body: UpdateUserRequest, caller: Admin) -> StaffUser:
        changes = admin_users.StaffChanges(**body.model_dump(exclude_none=True))
        with _refusals():
            async with sessions.begin() as session:
                member = await admin_users.change_staff_member(
                    session, caller.account_id, caller.user_id, user_id, changes, _now()
                )
        # Role or active flag may have changed: this process must not trust its cache for them.
        auth.forget(caller.account_id, user_id)
        return StaffUser(**asdict(member))

    # --- teams --------------------------------------------------------------------------------

    @router.get(
        "/teams",
        response_model=list[TeamView],
        tags=["teams"],
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
        tags=["teams"],
        summary="One team",
        responses={**STAFF_ONLY, **_not_found("team")},
    )
    async def get_team(team_id: UUID, caller: Staff) -> TeamView:
        with _refusals():
            async with sessions() as session:
                team = await admin_teams.get_team(session, caller.account_id, team_id)
        return TeamView(**asdict(team))

    invalid_members = {
        422: error_response(
            "A member id is not an active user of your account (or the request is not valid)",
            "invalid_members",
            "every member must be an active user of your account",
        )
    }

    @router.post(
        "/teams",
        response_model=TeamView,
        status_code=201,
        tags=["teams"],
        summary="Create a team (admin)",
        responses={
            **FORBIDDEN,
            **_conflict("team_name_taken", "a team with this name already exists"),
            **invalid_members,
        },
    )
    async def create_team(body: CreateTeamRequest, caller: Admin) -> TeamView:
        with _refusals():
            async with sessions.begin() as session:
                team = await admin_teams.create_team(
                    session, caller.account_id, body.name, body.member_ids, _now()
                )
        return TeamView(**asdict(team))

    @router.patch(
        "/teams/{team_id}",
        response_model=TeamView,
        tags=["teams"],
        summary="Rename a team (admin)",
        responses={
            **FORBIDDEN,
            **_not_found("team"),
            **_conflict("team_name_taken", "a team with this name already exists"),
            **INVALID,
        },
    )
    async def rename_team(team_id: UUID, body: RenameTeamRequest, caller: Admin) -> TeamView:
        with _refusals():
            async with sessions.begin() as session:
                team = await admin_teams.rename_team(session, caller.account_id, team_id, body.name)
        return TeamView(**asdict(team))

    @router.put(
        "/teams/{team_id}/members",
        response_model=TeamView,
        tags=["teams"],
        summary="Set a team's members (admin)",
        description="Replaces the whole member list; an empty list leaves the team without members.",
        responses={**FORBIDDEN, **_not_found("team"), **invalid_members},
    )
    async def set_team_members(team_id: UUID, body: TeamMembersRequest, caller: Admin) -> TeamView:
        with _refusals():
            async with sessions.begin() as session:
                team = await admin_teams.set_team_members(session, caller.account_id, team_id, body.user_ids)
        return TeamView(**asdict(team))

    @router.delete(
        "/teams/{team_id}",
        status_code=204,
        tags=["teams"],
        summary="Delete a team (admin)",
        description="Refused with 409 `team_in_use` while conversations (open, closed or archived) "
        "are assigned to it: reassign them first.",
        responses={
            **FORBIDDEN,
            **_not_found("team"),
            **_conflict("team_in_use", "3 conversation(s) are assigned to this team; reassign them first"),
        },
    )
    async def delete_team(team_id: UUID, caller: Admin) -> Response:
        with _refusals():
            async with sessions.begin() as session:
                await admin_teams.delete_team(session, caller.account_id, team_id)
        return Response(status_code=204)

    # --- phone numbers ------------------------------------------------------------------------

    @router.get(
        "/phone-numbers",
        response_model=list[PhoneNumberView],
        tags=["phone numbers"],
        summary="List the dealership's numbers (admin)",
        responses=FORBIDDEN,
    )
    async def list_numbers(caller: Admin) -> list[PhoneNumberView]:
        async with sessions() as session:
            numbers = await admin_numbers.list_numbers(session, caller.account_id)
        return [PhoneNumberView(**asdict(number)) for number in numbers]

    @router.post(
        "/phone-numbers",
        response_model=PhoneNumberView,
        status_code=201,
        tags=["phone numbers"],
        summary="Add a number customers can text (admin)",
        description="The number is stored in E.164. A number can belong to one dealership only: one "
        "already registered anywhere is refused with 409 `number_taken`.",
        responses={
            **FORBIDDEN,
            **_conflict("number_taken", "this number is already registered"),
            422: error_response(
                "Not a phone number (or the request is not valid)",
                "invalid_phone_number",
                "'12' is not a possible phone number",
            ),
        },
    )
    async def add_number(body: AddPhoneNumberRequest, caller: Admin) -> PhoneNumberView:
        with _refusals():
            async with sessions.begin() as session:
                number = await admin_numbers.add_number(
                    session,
                    caller.account_id,
                    body.number,
                    body.carrier,
                    body.kind,
                    settings.default_phone_region,
                    _now(),
                )
        return PhoneNumberView(**asdict(number))

    @router.delete(
        "/phone-numbers/{number_id}",
        status_code=204,
        tags=["phone numbers"],
        summary="Remove a number (admin)",
        description="Texts to it are no longer received; conversations and messages stay.",
        responses={**FORBIDDEN, **_not_found("phone number")},
    )
    async def remove_number(number_id: UUID, caller: Admin) -> Response:
        with _refusals():
            async with sessions.begin() as session:
                await admin_numbers.remove_number(session, caller.account_id, number_id)
        return Response(status_code=204)

    # --- settings -----------------------------------------------------------------------------

    @router.get(
        "/account/settings",
        response_model=AccountSettingsView,
        tags=["settings"],
        summary="The dealership's settings",
        description="Any staff member may read them, and the platform's services (the exporter "
        "prints the dealership's name and its time zone).",
        responses={**STAFF_ONLY, **_not_found("account")},
    )
    async def get_settings(caller: StaffOrService) -> AccountSettingsView:
        with _refusals():
            async with sessions() as session:
                current = await admin_settings.get_settings(session, caller.account_id)
        return AccountSettingsView(**asdict(current))

    @router.patch(
        "/account/settings",
        response_model=AccountSettingsView,
        tags=["settings"],
        summary="Change the dealership's settings (admin)",
        responses={**FORBIDDEN, **_not_found("account"), **INVALID},
    )
    async def update_settings(body: UpdateSettingsRequest, caller: Admin) -> AccountSettingsView:
        with _refusals():
            async with sessions.begin() as session:
                current = await admin_settings.change_settings(session, caller.account_id, body.changes())
        return AccountSettingsView(**asdict(current))

    return router
