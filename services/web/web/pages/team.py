"""Teams and users (admins): create, rename and delete teams, add and remove members; invite a
person, change a role, deactivate or reactivate a user. Routing owns staff, teams and invitations
(`/api/v1/users`, `/api/v1/teams`, `/api/v1/invitations`) and their rules (the last admin, a
team still assigned conversations); the page puts its refusals beside the form that was sent.

Deactivating keeps everything: the person's conversations stay assigned to them, and anyone may
reassign them from the inbox. The page has three sections (teams, users, invitations), each a
partial: with htmx a form gets its section back (errors beside the fields, 422, or what changed)
and, after a change, the other sections it touched out of band; without script forms post, then
redirect back (`?updated=`), and a refused form is shown again in the page. Either way what was
typed is shown again on a refusal."""

import asyncio
import contextlib
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from web.admin import Failed, field_errors, signed_in_admin
from web.backend import NotFound, Refused
from web.deps import WebDeps
from web.rendering import is_htmx
from web.session import SignedIn

PAGE = "/settings/team"
UPDATED = {
    "team_created",
    "team_renamed",
    "team_deleted",
    "members",
    "role",
    "deactivated",
    "reactivated",
    "invited",
    "invitation_cancelled",
}


# What a change shows again: its own section first, then the ones whose content it changed
# (team names beside users and in the invitation form; members leaving teams when deactivated).
CHANGED_BY: dict[str, tuple[str, ...]] = {
    "team_created": ("teams", "users", "invite"),
    "team_renamed": ("teams", "users", "invite"),
    "team_deleted": ("teams", "users", "invite"),
    "members": ("teams", "users"),
    "role": ("users",),
    "deactivated": ("users", "teams"),
    "reactivated": ("users", "teams"),
    "invited": ("invite",),
    "invitation_cancelled": ("invite",),
}
# Which section holds a form (`Failed.form` names start with these).
FORM_SECTIONS = (
    ("create_team", "teams"),
    ("rename:", "teams"),
    ("members:", "teams"),
    ("delete:", "teams"),
    ("user:", "users"),
    ("invite", "invite"),
)


def router(deps: WebDeps) -> APIRouter:
    routes = APIRouter()

    async def pending_invitations(signed_in: SignedIn) -> list[dict] | None:
        """None when routing does not offer invitations (yet): the form says so when sent."""
        try:
            return await signed_in.api.get("routing", "/api/v1/invitations")
        except (NotFound, Refused):
            return None

    async def page(
        request: Request,
        signed_in: SignedIn,
        failed: Failed | None = None,
        status_code: int = 200,
        *,
        sections: tuple[str, ...] = (),
        updated: str = "",
    ) -> Response:
        """The page, or for htmx only `sections` (the first swapped, the others out of band)."""
        users, teams, invitations = await asyncio.gather(
            signed_in.api.get("routing", "/api/v1/users"),
            signed_in.api.get("routing", "/api/v1/teams"),
            pending_invitations(signed_in),
        )
        names = {user["id"]: user["name"] for user in users}
        team_names = {team["id"]: team["name"] for team in teams}
        active = [user for user in users if user["active"]]
        for team in teams:
            team["members"] = sorted(
                ({"id": i, "name": names.get(i, "?")} for i in team["member_ids"]),
                key=lambda m: m["name"].casefold(),
            )
            team["candidates"] = [user for user in active if user["id"] not in team["member_ids"]]
        for user in users:
            user["team_names"] = sorted(team_names[i] for i in user["team_ids"] if i in team_names)
        updated = updated or request.query_params.get("updated", "")
        context = {
            "person": signed_in.person,
            "users": sorted(users, key=lambda u: (not u["active"], u["name"].casefold())),
            "active_users": active,
            "teams": teams,
            "invitations": invitations,
            "failed": failed or Failed(),
            "updated": updated if updated in UPDATED and failed is None else "",
            "sections": sections,
        }
        template = "partials/team_response.html" if sections and is_htmx(request) else "team.html"
        return deps.renderer.render(
            request, template, context, time_zone=signed_in.person.time_zone, status_code=status_code
        )

    async def back(request: Request, signed_in: SignedIn, updated: str, anchor: str = "") -> Response:
        """Done: htmx gets the section of the form again, saying so, and what else changed; a
        plain post is redirected."""
        if is_htmx(request):
            return await page(request, signed_in, sections=CHANGED_BY[updated], updated=updated)
        return RedirectResponse(f"{PAGE}?updated={updated}#{anchor or updated}", status_code=303)

    async def refused_form(
        request: Request, signed_in: SignedIn, form: str, typed: dict[str, Any], errors: dict[str, str]
    ) -> Response:
        section = next(name for prefix, name in FORM_SECTIONS if form.startswith(prefix))
        return await page(request, signed_in, Failed(form, typed, errors), 422, sections=(section,))

    @routes.get(PAGE)
    async def team_page(request: Request) -> Response:
        return await page(request, await signed_in_admin(deps, request))

    # --- teams ---------------------------------------------------------------------------------

    @routes.post(f"{PAGE}/teams")
    async def create_team(
        request: Request,
        name: Annotated[str, Form(max_length=400)] = "",
        member_ids: Annotated[list[str] | None, Form(max_length=1000)] = None,
    ) -> Response:
        signed_in = await signed_in_admin(deps, request)
        typed = {"name": name, "member_ids": member_ids or []}
        if not name.strip():
            return await refused_form(request, signed_in, "create_team", typed, {"name": "required"})
        try:
            await signed_in.api.post(
                "routing", "/api/v1/teams", json={"name": name.strip(), "member_ids": member_ids or []}
            )
        except Refused as refused:
            if refused.status not in (409, 422):
                raise
            errors = field_errors(refused, {"name": "name", "member_ids": "member_ids"}, fallback="name")
            return await refused_form(request, signed_in, "create_team", typed, errors)
        return await back(request, signed_in, "team_created", "teams")

    @routes.post(PAGE + "/teams/{team_id}/rename")
    async def rename_team(
        request: Request, team_id: str, name: Annotated[str, Form(max_length=400)] = ""
    ) -> Response:
        signed_in = await signed_in_admin(deps, request)
        form = f"rename:{team_id}"
        if not name.strip():
            return await refused_form(request, signed_in, form, {"name": name}, {"name": "required"})
        try:
            await signed_in.api.patch("routing", f"/api/v1/teams/{team_id}", json={"name": name.strip()})
        except Refused as refused:
            if refused.status not in (409, 422):
                raise
            errors = field_errors(refused, {"name": "name"}, fallback="name")
            return await refused_form(request, signed_in, form, {"name": name}, errors)
        return await back(request, signed_in, "team_renamed", f"team-{team_id}")

    async def change_members(request: Request, team_id: str, user_id: str, add: bool) -> Response:
        signed_in = await signed_in_admin(deps, request)
        form = f"members:{team_id}"
        if add and not user_id:
            return await refused_form(request, signed_in, form, {}, {"user_id": "choose_member"})
        team = await signed_in.api.get("routing", f"/api/v1/teams/{team_id}")
        members = [m for m in team["member_ids"] if m != user_id]
        if add:
            members.append(user_id)
        try:
            await signed_in.api.put("routing", f"/api/v1/teams/{team_id}/members", json={"user_ids": members})
        except Refused as refused:
            if refused.status != 422:
                raise
            errors = {"user_id": "invalid_members"}
            return await refused_form(request, signed_in, form, {"user_id": user_id}, errors)
        return await back(request, signed_in, "members", f"team-{team_id}")

    @routes.post(PAGE + "/teams/{team_id}/members")
    async def add_member(
        request: Request, team_id: str, user_id: Annotated[str, Form(max_length=100)] = ""
    ) -> Response:
        return await change_members(request, team_id, user_id, add=True)

    @routes.post(PAGE + "/teams/{team_id}/members/{user_id}/remove")
    async def remove_member(request: Request, team_id: str, user_id: str) -> Response:
        return await change_members(request, team_id, user_id, add=False)

    @routes.post(PAGE + "/teams/{team_id}/delete")
    async def delete_team(request: Request, team_id: str) -> Response:
        signed_in = await signed_in_admin(deps, request)
        try:
            await signed_in.api.delete("routing", f"/api/v1/teams/{team_id}")
        except NotFound:
            pass  # already deleted: the list shows the truth
        except Refused as refused:
            if refused.status != 409:
                raise
            details = refused.details if isinstance(refused.details, dict) else {}
            count = details.get("assigned_conversations", 0)
            return await refused_form(
                request, signed_in, f"delete:{team_id}", {"count": count}, {"": refused.code}
            )
        return await back(request, signed_in, "team_deleted", "teams")

    # --- users ---------------------------------------------------------------------------------

    async def change_user(request: Request, user_id: str, changes: dict, updated: str) -> Response:
        signed_in = await signed_in_admin(deps, request)
        try:
            await signed_in.api.patch("routing", f"/api/v1/users/{user_id}", json=changes)
        except Refused as refused:
            if refused.status not in (409, 422):
                raise
            return await refused_form(request, signed_in, f"user:{user_id}", changes, {"": refused.code})
        return await back(request, signed_in, updated, f"user-{user_id}")

    @routes.post(PAGE + "/users/{user_id}/role")
    async def change_role(
        request: Request, user_id: str, role: Annotated[str, Form(max_length=20)] = ""
    ) -> Response:
        return await change_user(request, user_id, {"role": role}, "role")

    @routes.post(PAGE + "/users/{user_id}/deactivate")
    async def deactivate(request: Request, user_id: str) -> Response:
        return await change_user(request, user_id, {"active": False}, "deactivated")

    @routes.post(PAGE + "/users/{user_id}/reactivate")
    async def reactivate(request: Request, user_id: str) -> Response:
        return await change_user(request, user_id, {"active": True}, "reactivated")

    # --- invitations ---------------------------------------------------------------------------

    @routes.post(f"{PAGE}/invitations")
    async def invite(
        request: Request,
        email: Annotated[str, Form(max_length=400)] = "",
        name: Annotated[str, Form(max_length=400)] = "",
        role: Annotated[str, Form(max_length=20)] = "agent",
        team_ids: Annotated[list[str] | None, Form(max_length=1000)] = None,
    ) -> Response:
        signed_in = await signed_in_admin(deps, request)
        typed = {"email": email, "name": name, "role": role, "team_ids": team_ids or []}
        errors = {key: "required" for key in ("email", "name") if not typed[key].strip()}
        if not errors:
            body = {"email": email.strip(), "name": name.strip(), "role": role, "team_ids": team_ids or []}
            try:
                await signed_in.api.post("routing", "/api/v1/invitations", json=body)
            except NotFound:
                errors = {"": "invitations_unavailable"}
            except Refused as refused:
                if refused.status == 405:
                    errors = {"": "invitations_unavailable"}
                elif refused.status in (409, 422):
                    errors = field_errors(
                        refused,
                        {"email": "email", "name": "name", "role": "role", "team_ids": "team_ids"},
                        fallback="email",
                    )
                else:
                    raise
        if errors:
            return await refused_form(request, signed_in, "invite", typed, errors)
        return await back(request, signed_in, "invited", "invite")

    @routes.post(PAGE + "/invitations/{invitation_id}/cancel")
    async def cancel_invitation(request: Request, invitation_id: str) -> Response:
        signed_in = await signed_in_admin(deps, request)
        with contextlib.suppress(NotFound):  # already accepted, expired or cancelled
            await signed_in.api.delete("routing", f"/api/v1/invitations/{invitation_id}")
        return await back(request, signed_in, "invitation_cancelled", "invite")

    return routes
