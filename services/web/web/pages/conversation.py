"""The open conversation: the right-hand pane of the Conversations screen. Its timeline, the
assign menu, close / reopen / mark unread, the composer with saved replies, internal notes with
@mention suggestions, and the export dialog. Everything is asked of routing (and exporter).

`GET /conversations/{id}` is the whole page (list and pane) or, for htmx (target
`#conversation-pane`), the pane alone. Actions answer htmx with the pane again (and the list,
out of band, when the action changes what the list shows) and a form without htmx with a
redirect to the conversation's address."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time
from typing import Annotated, Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from web import mentions
from web.backend import NotFound, UserApi
from web.deps import WebDeps
from web.i18n import time_zone
from web.pages.conversations import render_inbox
from web.pages.inbox_state import InboxState
from web.rendering import is_htmx
from web.session import SignedIn
from web.timeline import arrivals_since, earlier_window, newest_window

PANE = "partials/conversation_pane.html"
PANE_AND_LIST = "partials/conversation_response.html"
MAX_NOTE = 5000
MAX_TEXT = 1600


def conversation_id_of(raw: str) -> str:
    """A made-up id answers like one of another dealership: not found."""
    try:
        return str(UUID(raw))
    except ValueError:
        raise NotFound() from None


def api_path(conversation_id: str, action: str = "") -> str:
    return f"/api/v1/conversations/{conversation_id}" + (f"/{action}" if action else "")


class ExportRangeError(ValueError):
    """`code` is one the export dialog explains: no_dates, invalid_date, wrong_order."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def export_range(choice: str, since: str, until: str, zone: ZoneInfo) -> tuple[str | None, str | None]:
    """The instants exporter takes for the dialog's choice: the whole conversation, or from the
    start of the first day to the end of the last one, in the dealership's time zone."""
    if choice != "dates":
        return None, None
    if not since and not until:
        raise ExportRangeError("no_dates")
    try:
        first = date.fromisoformat(since) if since else None
        last = date.fromisoformat(until) if until else None
    except ValueError:
        raise ExportRangeError("invalid_date") from None
    if first and last and first > last:
        raise ExportRangeError("wrong_order")
    start = datetime.combine(first, time.min, tzinfo=zone).isoformat() if first else None
    end = datetime.combine(last, time.max, tzinfo=zone).isoformat() if last else None
    return start, end


async def load_conversation(api: UserApi, conversation_id: str, *, mark_read: bool) -> dict[str, Any]:
    """What the pane shows. Opening a conversation marks it read for the person."""
    calls: list[Awaitable[Any]] = [
        api.get("routing", api_path(conversation_id)),
        newest_window(api, conversation_id),
        api.get("routing", api_path(conversation_id, "composer")),
        api.get("routing", "/api/v1/saved-replies"),
        api.get_recent("routing", "/api/v1/users"),
        api.get_recent("routing", "/api/v1/teams"),
    ]
    if mark_read:
        calls.append(api.post("routing", api_path(conversation_id, "read")))
    conversation, timeline, composer, saved_replies, users, teams, *_ = await asyncio.gather(*calls)
    names = {u["id"]: u["name"] for u in users} | {t["id"]: t["name"] for t in teams}
    assignee = conversation["assignee_user_id"] or conversation["assignee_team_id"]
    return {
        "conversation": conversation,
        "timeline": timeline,
        "composer": composer,
        "saved_replies": saved_replies,
        "assignable_users": [u for u in users if u["active"]],
        "assignable_teams": teams,
        "assignee_name": names.get(assignee) if assignee else None,
        "marked_read": mark_read,
        "notice": None,
        "draft": "",
        "sent": False,
        # One key per shown composer: a double submit or a retry texts the customer once.
        "reply_key": uuid4().hex,
    }


async def render_pane(
    request: Request,
    deps: WebDeps,
    conversation_id: str,
    *,
    mark_read: bool = False,
    with_list: bool = False,
    signed_in: SignedIn | None = None,
    **shown: Any,
) -> Response:
    def loader(api: UserApi) -> Awaitable[dict[str, Any]]:
        return _with(load_conversation(api, conversation_id, mark_read=mark_read), shown)

    if request.headers.get("hx-target") != "conversation-pane":  # a page load, back, reload
        return await render_inbox(request, deps, conversation_id, load_conversation=loader)
    if with_list:
        return await render_inbox(
            request, deps, conversation_id, load_conversation=loader, template=PANE_AND_LIST
        )
    if signed_in is None:
        signed_in, pane = await asyncio.gather(
            deps.sessions.signed_in(request), loader(deps_api(deps, request))
        )
    else:
        pane = await loader(signed_in.api)
    context = {"person": signed_in.person, "state": InboxState.of(request), **pane}
    return deps.renderer.render(request, PANE, context, time_zone=signed_in.person.time_zone)


async def _with(pane: Awaitable[dict[str, Any]], shown: dict[str, Any]) -> dict[str, Any]:
    return {**await pane, **shown}


def deps_api(deps: WebDeps, request: Request) -> UserApi:
    return deps.backend.as_user(deps.sessions.token_of(request))


def back_to(request: Request, conversation_id: str) -> Response:
    """A form sent without htmx: show the conversation again (post, redirect, get)."""
    query = InboxState.of(request).query()
    return RedirectResponse(f"/conversations/{conversation_id}?{query}", status_code=303)


def router(deps: WebDeps) -> APIRouter:
    routes = APIRouter()

    async def after_action(
        request: Request, conversation_id: str, with_list: bool = True, **shown: Any
    ) -> Response:
        if not is_htmx(request):
            return back_to(request, conversation_id)
        return await render_pane(request, deps, conversation_id, with_list=with_list, **shown)

    @routes.get("/conversations/{raw_id}")
    async def open_conversation(request: Request, raw_id: str) -> Response:
        conversation_id = conversation_id_of(raw_id)
        return await render_pane(request, deps, conversation_id, mark_read=True)

    @routes.get("/conversations/{raw_id}/timeline")
    async def timeline(request: Request, raw_id: str, earlier: str | None = None) -> Response:
        """The timeline alone (the live layer fetches it again on an event), or with `earlier`
        the page before what is shown."""
        conversation_id = conversation_id_of(raw_id)
        api = deps_api(deps, request)
        window_of = (
            earlier_window(api, conversation_id, earlier) if earlier else newest_window(api, conversation_id)
        )
        signed_in, conversation, window = await asyncio.gather(
            deps.sessions.signed_in(request), api.get("routing", api_path(conversation_id)), window_of
        )
        template = "partials/timeline_items.html" if earlier else "partials/conversation_timeline.html"
        context = {"person": signed_in.person, "conversation": conversation, "timeline": window}
        return deps.renderer.render(request, template, context, time_zone=signed_in.person.time_zone)

    @routes.post("/conversations/{raw_id}/messages")
    async def send_reply(
        request: Request,
        raw_id: str,
        body: Annotated[str, Form(max_length=MAX_TEXT)] = "",
        seen: Annotated[str, Form(max_length=100)] = "",
        reply_key: Annotated[str, Form(max_length=100)] = "",
    ) -> Response:
        conversation_id = conversation_id_of(raw_id)
        signed_in = await deps.sessions.signed_in(request)
        newest = await newest_window(signed_in.api, conversation_id)
        # Something arrived since the page showed the conversation: let the person read it
        # first; the pane shows it, with the draft kept, and the next Send goes out.
        if not body.strip() or arrivals_since(newest.items, seen, signed_in.person.id):
            notice = "newer" if body.strip() else None
            return await after_action(
                request, conversation_id, with_list=False, signed_in=signed_in, notice=notice, draft=body
            )
        await signed_in.api.backend.call(
            "routing",
            "POST",
            api_path(conversation_id, "messages"),
            token=signed_in.api.token,
            json={"body": body},
            headers={"Idempotency-Key": reply_key} if reply_key else None,
        )
        return await after_action(request, conversation_id, with_list=False, signed_in=signed_in, sent=True)

    @routes.post("/conversations/{raw_id}/notes")
    async def add_note(
        request: Request, raw_id: str, body: Annotated[str, Form(max_length=MAX_NOTE)] = ""
    ) -> Response:
        conversation_id = conversation_id_of(raw_id)
        if body.strip():
            await deps_api(deps, request).post(
                "routing", api_path(conversation_id, "notes"), json={"body": body}
            )
        return await after_action(request, conversation_id, with_list=False)

    @routes.get("/conversations/{raw_id}/mentions")
    async def mention_suggestions(request: Request, raw_id: str, body: str = "") -> Response:
        """The colleagues matching the "@..." at the end of the note being typed."""
        conversation_id_of(raw_id)
        query = mentions.mention_query(body[-200:])
        signed_in = await deps.sessions.signed_in(request)
        found = []
        if query is not None:
            users = await signed_in.api.get("routing", "/api/v1/users")
            found = mentions.suggestions(query, users, signed_in.person.id)
        return deps.renderer.render(request, "partials/mention_suggestions.html", {"suggestions": found})

    @routes.post("/conversations/{raw_id}/saved-reply")
    async def insert_saved_reply(
        request: Request,
        raw_id: str,
        saved_reply_id: Annotated[str, Form(max_length=100)] = "",
        body: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    ) -> Response:
        """The composer's text with the saved reply, rendered for this customer, added."""
        conversation_id = conversation_id_of(raw_id)
        draft = body
        if saved_reply_id:
            reply_id = conversation_id_of(saved_reply_id)
            preview = await deps_api(deps, request).post(
                "routing",
                f"/api/v1/saved-replies/{reply_id}/preview",
                json={"conversation_id": conversation_id},
            )
            draft = (body.rstrip() + "\n" if body.strip() else "") + preview["text"]
        context = {"draft": draft, "blocked": False, "conversation_id": conversation_id}
        return deps.renderer.render(request, "partials/composer_body.html", context)

    @routes.post("/conversations/{raw_id}/assign")
    async def assign(
        request: Request,
        raw_id: str,
        assignee: Annotated[str, Form(max_length=100)] = "",
        note: Annotated[str, Form(max_length=MAX_NOTE)] = "",
    ) -> Response:
        conversation_id = conversation_id_of(raw_id)
        kind, _, assignee_id = assignee.partition(":")
        if kind not in ("user", "team"):
            raise NotFound()
        request_body: dict[str, Any] = {
            "assignee": {f"{kind}_id": conversation_id_of(assignee_id)},
            "conversation_ids": [conversation_id],
        }
        if note.strip():
            request_body["note"] = note
        await deps_api(deps, request).post("routing", "/api/v1/conversations/assign", json=request_body)
        return await after_action(request, conversation_id)

    def status_change(action: str) -> Callable[[Request, str], Awaitable[Response]]:
        async def change(request: Request, raw_id: str) -> Response:
            conversation_id = conversation_id_of(raw_id)
            await deps_api(deps, request).post("routing", api_path(conversation_id, action))
            return await after_action(request, conversation_id)

        return change

    # `unread` is being added to routing; until then routing answers 404 and so do we.
    for action in ("close", "reopen", "unread"):
        routes.add_api_route(f"/conversations/{{raw_id}}/{action}", status_change(action), methods=["POST"])

    @routes.post("/conversations/{raw_id}/export")
    async def export(
        request: Request,
        raw_id: str,
        choice: Annotated[str, Form(max_length=10)] = "all",
        since: Annotated[str, Form(max_length=20)] = "",
        until: Annotated[str, Form(max_length=20)] = "",
    ) -> Response:
        conversation_id = conversation_id_of(raw_id)
        signed_in = await deps.sessions.signed_in(request)
        zone = signed_in.person.time_zone
        context: dict[str, Any] = {
            "person": signed_in.person,
            "state": InboxState.of(request),
            "conversation": {"id": conversation_id},
            "choice": choice,
            "since": since,
            "until": until,
            "export_error": None,
        }
        try:
            start, end = export_range(choice, since, until, time_zone(zone))
        except ExportRangeError as problem:
            context["export_error"] = problem.code
            return deps.renderer.render(request, "partials/export_form.html", context, time_zone=zone)
        await signed_in.api.post(
            "exporter",
            "/api/v1/exports",
            json={"conversation_id": conversation_id, "since": start, "until": end, "time_zone": zone},
        )
        if not is_htmx(request):
            return back_to(request, conversation_id)
        return deps.renderer.render(request, "partials/export_done.html", context, time_zone=zone)

    return routes
