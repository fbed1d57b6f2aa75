"""The Conversations screen: the list (view, status and read menus with counts, highlights,
keyset paging) and the open conversation beside it. The URL says what is shown."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from web.backend import UserApi
from web.deps import WebDeps
from web.pages.inbox_state import InboxState
from web.session import Person

PAGE_SIZE = 50


def router(deps: WebDeps) -> APIRouter:
    routes = APIRouter()

    @routes.get("/conversations")
    async def inbox(request: Request) -> Response:
        return await render_inbox(request, deps, conversation_id=None)

    @routes.get("/conversations/rows")
    async def more_rows(request: Request, cursor: str) -> Response:
        """The next page of rows, after the cursor routing gave with the previous one."""
        state = InboxState.of(request)
        signed_in = await deps.sessions.signed_in(request)
        page, directory = await asyncio.gather(
            list_page(signed_in.api, state, cursor), staff_directory(signed_in.api)
        )
        return deps.renderer.render(
            request,
            "partials/conversation_rows.html",
            list_context(signed_in.person, state, page, directory, selected=None),
            time_zone=signed_in.person.time_zone,
        )

    return routes


async def render_inbox(
    request: Request,
    deps: WebDeps,
    conversation_id: str | None,
    load_conversation: Callable[[UserApi], Awaitable[dict[str, Any]]] | None = None,
    template: str | None = None,
) -> Response:
    """`load_conversation` (pages/conversation.py) adds the open conversation's pane; it runs
    before the list is read because opening a conversation marks it read, which the list then
    shows. `template` replaces the page (the pane with the list out of band, after an action)."""
    state = InboxState.of(request)
    token = deps.sessions.token_of(request)
    api = deps.backend.as_user(token)
    pane = await load_conversation(api) if load_conversation else {}
    signed_in, page, counts, directory = await asyncio.gather(
        deps.sessions.signed_in(request),
        list_page(api, state, None),
        api.get("routing", "/api/v1/conversations/counts", params=state.api_params()),
        staff_directory(api),
    )
    context = list_context(signed_in.person, state, page, directory, selected=conversation_id)
    context["counts"] = counts
    context.update(pane)
    if template is None:
        template = "partials/conversation_list.html" if wants_list_only(request) else "conversations.html"
    return deps.renderer.render(request, template, context, time_zone=signed_in.person.time_zone)


def wants_list_only(request: Request) -> bool:
    return request.headers.get("hx-target") == "conversation-list"


async def list_page(api: UserApi, state: InboxState, cursor: str | None) -> dict:
    params = [*state.api_params(), ("limit", str(PAGE_SIZE))]
    if cursor:
        params.append(("cursor", cursor))
    return await api.get("routing", "/api/v1/conversations", params=params)


async def staff_directory(api: UserApi) -> dict[str, Any]:
    users, teams = await asyncio.gather(
        api.get("routing", "/api/v1/users"), api.get("routing", "/api/v1/teams")
    )
    return {"users": users, "teams": teams}


def list_context(
    person: Person, state: InboxState, page: dict, directory: dict[str, Any], selected: str | None
) -> dict[str, Any]:
    users = {user["id"]: user for user in directory["users"]}
    teams = {team["id"]: team for team in directory["teams"]}
    return {
        "person": person,
        "state": state,
        "rows": page["items"],
        "next_cursor": page.get("next_cursor"),
        "users": users,
        "teams": teams,
        "other_users": [u for u in directory["users"] if u["id"] != person.id and u["active"]],
        "selected": selected,
    }
