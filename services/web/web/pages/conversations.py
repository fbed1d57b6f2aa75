"""The Conversations screen: the list (view, status and read menus with counts, highlights,
keyset paging, bulk assign / close / reopen) and the open conversation beside it. The URL says
what is shown; bulk actions post to routing and answer with the list as it now is."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Literal
from uuid import UUID

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from web.backend import Refused, UserApi
from web.deps import WebDeps
from web.pages.inbox_state import InboxState
from web.rendering import LaterAnswer, Record, ShellKey
from web.session import Person

PAGE_SIZE = 50
# A live refresh asks again for the rows the page shows ("Load more" included), up to routing's
# largest page.
MOST_ROWS = 200
# Routing's AssignRequest takes at most this many ids; "all that match" goes as a filter.
MAX_IDS = 1000
BulkAction = Literal["assign", "close", "reopen"]


def router(deps: WebDeps) -> APIRouter:
    routes = APIRouter()

    @routes.get("/conversations")
    async def inbox(request: Request) -> Response:
        return await render_inbox(request, deps, conversation_id=None)

    @routes.get("/conversations/counts")
    async def list_counts(request: Request) -> Response:
        """The numbers beside the list's menus, asked by the list once it is shown (they cost
        routing a pass over the account's conversations, the list itself a page of an index):
        the rows paint first, the counts follow out of band (partials/list_counts.html)."""
        state = InboxState.of(request)
        signed_in = await deps.sessions.signed_in(request)
        (counts, refused), directory = await asyncio.gather(
            counts_of(signed_in.api, state), staff_directory(signed_in.api)
        )
        shown = counts_context(signed_in.person, state, directory, counts, refused=refused)
        return deps.renderer.render(
            request,
            "partials/list_counts.html",
            {"state": state, **shown},
            time_zone=signed_in.person.time_zone,
        )

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

    @routes.post("/bulk/conversations/{action}")
    async def bulk(request: Request, action: BulkAction) -> Response:
        """The ticked rows (or every conversation that matches the list's filters) assigned,
        closed or reopened in one call to routing; the answer is the list as it now is."""
        state = InboxState.of(request)
        form = await request.form()
        signed_in = await deps.sessions.signed_in(request)
        selection = bulk_selection(state, str(form.get("scope", "")), form.getlist("conversation_ids"))
        if selection is None:
            done: dict[str, Any] = {"action": "nothing"}
        elif action == "assign":
            assignee = assignee_of(str(form.get("assignee", "")))
            if assignee is None:
                done = {"action": "no_assignee"}
            else:
                note = str(form.get("note", "")).strip()[:5000]
                body = {**selection, "assignee": assignee, **({"note": note} if note else {})}
                answer = await signed_in.api.post("routing", "/api/v1/conversations/assign", json=body)
                done = {"action": "assign", "count": answer["count"], "name": answer["assignee_name"]}
        else:
            answer = await signed_in.api.post("routing", f"/api/v1/conversations/{action}", json=selection)
            done = {"action": action, "count": answer.get("changed", 0)}
        context = await inbox_context(
            signed_in.api, signed_in.person, state, conversation_id=None, with_counts=True
        )
        context["done"] = done
        return deps.renderer.render(
            request, "partials/conversation_list.html", context, time_zone=signed_in.person.time_zone
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
    shows. `template` replaces the page (the pane with the list out of band, after an action, with
    its counts at once); a page or a list alone asks for its counts afterwards.

    A page or a list alone is rendered while routing's list call is on its way (everything but
    the rows needs only answers web keeps a few seconds: who is signed in, the staff directory),
    and its rows once they come: the page then adds to that call little more than the rows."""
    state = InboxState.of(request)
    api = deps.backend.as_user(deps.sessions.token_of(request))
    # A live refresh of the same list keeps the numbers shown until its own counts arrive,
    # instead of blanking them a few times a second (`hx-preserve`, see list_counts.html).
    keep_counts = request.headers.get("hx-trigger") == "list-refresh"
    if template is not None:
        signed_in, pane = await asyncio.gather(
            deps.sessions.signed_in(request), load_conversation(api) if load_conversation else _none()
        )
        context = await inbox_context(
            signed_in.api,
            signed_in.person,
            state,
            conversation_id,
            with_counts=True,
            rows=rows_shown(request),
        )
        context.update(pane, keep_counts=keep_counts)
        return deps.renderer.render(request, template, context, time_zone=signed_in.person.time_zone)
    pane: dict[str, Any] = {}
    if load_conversation is not None:
        signed_in, pane = await asyncio.gather(deps.sessions.signed_in(request), load_conversation(api))
    # Routing's list call starts now; the rest of the page is made while it is on its way.
    listing = asyncio.ensure_future(list_answer(api, state, rows_shown(request)))
    try:
        if load_conversation is None:
            signed_in = await deps.sessions.signed_in(request)
        directory = await staff_directory(api)
    except BaseException:
        listing.cancel()
        await asyncio.gather(listing, return_exceptions=True)
        raise
    person = signed_in.person

    def page_context() -> dict[str, Any]:
        """Made only when something is rendered (not for a page kept as it was)."""
        context = shell_context(person, state, directory, selected=conversation_id)
        context.update(
            counts_context(person, state, directory, None), view_refused=False, keep_counts=keep_counts
        )
        context.update(pane)
        return context

    page = "partials/conversation_list.html" if wants_list_only(request) else "conversations.html"
    shell_key = None
    if load_conversation is None:
        # Without a conversation open, the shell is made of the answers web keeps and of what
        # the address and headers say (the view and filters, the language switch's way back, a
        # live refresh keeping its numbers): kept a few seconds for the same person and address.
        shell_key = ShellKey(
            (api.session_key, request.url.path, request.url.query, keep_counts),
            (*signed_in.answers, directory["users"], directory["teams"]),
        )
    try:
        return await deps.renderer.render_awaiting(
            request, page, page_context, rows_of(listing), time_zone=person.time_zone, shell_key=shell_key
        )
    except Refused as refused:
        if not view_refused(refused, state):
            raise
    context = page_context()
    context.update(await refused_view_context(api, person, state, conversation_id, with_counts=False))
    return deps.renderer.render(request, page, context, time_zone=person.time_zone)


async def rows_of(listing: Awaitable[bytes]) -> LaterAnswer:
    """What the list's `later(...)` partials need: routing's answer as it came (`LaterAnswer`)."""
    return LaterAnswer(await listing, read_rows)


def read_rows(content: bytes) -> dict[str, Any]:
    return {"rows": (page := orjson.loads(content))["items"], "next_cursor": page.get("next_cursor")}


async def _none() -> dict[str, Any]:
    return {}


async def inbox_context(
    api: UserApi,
    person: Person,
    state: InboxState,
    conversation_id: str | None,
    *,
    with_counts: bool,
    rows: int = PAGE_SIZE,
) -> dict[str, Any]:
    """The list's context; without `with_counts` its numbers are left out (None) and the page
    asks for them afterwards (`/conversations/counts`)."""
    try:
        page, (counts, _), directory = await asyncio.gather(
            list_page(api, state, None, rows),
            counts_of(api, state) if with_counts else _no_counts(),
            staff_directory(api),
        )
    except Refused as refused:
        if not view_refused(refused, state):
            raise
        return await refused_view_context(api, person, state, conversation_id, with_counts=with_counts)
    context = list_context(person, state, page, directory, selected=conversation_id)
    context.update(counts_context(person, state, directory, counts))
    context["view_refused"] = False
    return context


def view_refused(refused: Refused, state: InboxState) -> bool:
    """Routing refused the list's view as one it does not offer (yet)."""
    return refused.status == 422 and state.view != "all"


async def refused_view_context(
    api: UserApi, person: Person, state: InboxState, conversation_id: str | None, *, with_counts: bool
) -> dict[str, Any]:
    """A view routing does not offer (yet): the list says so, its menus stay usable."""
    fallback = InboxState(view="all", status=state.status, read=state.read)
    context = await inbox_context(api, person, fallback, conversation_id, with_counts=with_counts)
    counts = context["counts"]
    return context | {
        "state": state,
        "view_refused": True,
        "rows": [],
        "next_cursor": None,
        "counts": None if counts is None else {**counts, "current": 0},
    }


async def _no_counts() -> tuple[None, bool]:
    return None, False


async def counts_of(api: UserApi, state: InboxState) -> tuple[dict[str, Any], bool]:
    """Routing's counts for the list as the URL says it, and whether routing refused its view
    (then the counts of All, none in the current view, as the list then says)."""
    try:
        return await api.get("routing", "/api/v1/conversations/counts", params=state.api_params()), False
    except Refused as refused:
        if refused.status != 422 or state.view == "all":
            raise
        fallback = InboxState(view="all", status=state.status, read=state.read)
        counts = await api.get("routing", "/api/v1/conversations/counts", params=fallback.api_params())
        return {**counts, "current": 0}, True


def counts_context(
    person: Person,
    state: InboxState,
    directory: dict[str, Any],
    counts: dict[str, Any] | None,
    refused: bool = False,
) -> dict[str, Any]:
    """The menus and their numbers (None until the counts are known); for a view routing
    refused, the list shows All's menus."""
    views = view_choices(person, directory, counts)
    key = "all" if refused else state.view
    current = next((v for v in views if v["key"] == key), views[0])
    return {
        "counts": None if counts is None else Record(counts),
        # Each view's number has an id of its own (for the out-of-band answer).
        "views": [Record(view, count_id="count-view-" + view["key"].replace(":", "-")) for view in views],
        "current_view": Record(current),
        "page_size": PAGE_SIZE,
    }


def wants_list_only(request: Request) -> bool:
    return request.headers.get("hx-target") == "conversation-list"


def rows_shown(request: Request) -> int:
    """How many rows the list shows: a page, or as many as a live refresh says are shown."""
    try:
        shown = int(request.query_params.get("shown", PAGE_SIZE))
    except ValueError:
        return PAGE_SIZE
    return min(max(shown, PAGE_SIZE), MOST_ROWS)


async def list_page(api: UserApi, state: InboxState, cursor: str | None, rows: int = PAGE_SIZE) -> dict:
    params = [*state.api_params(), ("limit", str(rows))]
    if cursor:
        params.append(("cursor", cursor))
    return await api.get("routing", "/api/v1/conversations", params=params)


async def list_answer(api: UserApi, state: InboxState, rows: int) -> bytes:
    """The list's first page as routing's bytes (`list_page`, undecoded)."""
    params = [*state.api_params(), ("limit", str(rows))]
    return await api.get_content("routing", "/api/v1/conversations", params=params)


async def staff_directory(api: UserApi) -> dict[str, Any]:
    users, teams = await asyncio.gather(
        api.get_recent("routing", "/api/v1/users"), api.get_recent("routing", "/api/v1/teams")
    )
    return {"users": users, "teams": teams}


def list_context(
    person: Person, state: InboxState, page: dict, directory: dict[str, Any], selected: str | None
) -> dict[str, Any]:
    return {
        **shell_context(person, state, directory, selected),
        # Plain dicts: conversation_rows.py reads them by key, not Jinja by attribute.
        "rows": page["items"],
        "next_cursor": page.get("next_cursor"),
    }


def shell_context(
    person: Person, state: InboxState, directory: dict[str, Any], selected: str | None
) -> dict[str, Any]:
    """The list's context but its rows: the person, the list's state and the staff directory."""
    users = {user["id"]: Record(user) for user in directory["users"]}
    teams = {team["id"]: Record(team) for team in directory["teams"]}
    return {
        "person": person,
        "state": state,
        "users": users,
        "teams": teams,
        "other_users": [u for u in users.values() if u["id"] != person.id and u["active"]],
        "active_users": [u for u in users.values() if u["active"]],
        "selected": selected,
    }


def view_choices(person: Person, directory: dict[str, Any], counts: dict | None) -> list[dict[str, Any]]:
    """The view menu as the help article lists it: my name first, then every user and every
    team, then Unassigned and All; each with its count (None while the counts are not known)."""
    known = counts is not None
    views = (counts or {}).get("views") or {}
    per_user, per_team = views.get("users") or {}, views.get("teams") or {}

    def count(number: int) -> int | None:
        return number if known else None

    choices = [{"key": "mine", "kind": "me", "name": person.name, "count": count(views.get("mine", 0))}]
    choices += [
        {
            "key": f"user:{u['id']}",
            "kind": "user",
            "name": u["name"],
            "count": count(per_user.get(u["id"], 0)),
        }
        for u in directory["users"]
        if u["id"] != person.id and u["active"]
    ]
    choices += [
        {
            "key": f"team:{t['id']}",
            "kind": "team",
            "name": t["name"],
            "count": count(per_team.get(t["id"], 0)),
        }
        for t in directory["teams"]
    ]
    choices.append(
        {"key": "unassigned", "kind": "unassigned", "name": "", "count": count(views.get("unassigned", 0))}
    )
    choices.append({"key": "all", "kind": "all", "name": "", "count": count(views.get("all", 0))})
    return choices


def bulk_selection(state: InboxState, scope: str, ids: list[Any]) -> dict[str, Any] | None:
    """Routing's selection: every conversation that matches the list's filters, or the ticked
    ids (anything that is not an id is left out rather than failing the whole action)."""
    if scope == "matching":
        return {"filter": state.filter_body()}
    chosen = list(dict.fromkeys(str(i) for i in ids if is_uuid(str(i))))[:MAX_IDS]
    return {"conversation_ids": chosen} if chosen else None


def assignee_of(choice: str) -> dict[str, str] | None:
    kind, _, ident = choice.partition(":")
    if kind in ("user", "team") and is_uuid(ident):
        return {f"{kind}_id": ident}
    return None


def is_uuid(value: str) -> bool:
    try:
        UUID(value)
    except ValueError:
        return False
    return True
