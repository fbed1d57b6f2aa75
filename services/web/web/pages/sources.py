"""Automations and Campaigns: the automations (`/automations`) and campaigns (`/campaigns`) that
texted customers of the dealership, named as their own systems name them, and "View results"
(`/automations/{id}`, `/campaigns/{id}`): every customer each reached, when, and whether the
text arrived (with why not). `conversation=<id>` opens one customer's information beside their
conversation (the Conversations screen's pane, composer and saved replies). A reply from that pane
goes through routing's outreach with the automation or campaign as its source, as the first text
did (`POST /{section}/{id}/messages?conversation=`), so the timeline and the results say where it
came from."""

import asyncio
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from web.backend import NotFound, Refused
from web.deps import WebDeps
from web.pages.conversation import conversation_id_of, load_conversation
from web.pages.inbox_state import InboxState
from web.rendering import is_htmx

Kind = Literal["automation", "campaign"]
PAGE_SIZE = 50
MAX_TEXT = 1600
SECTIONS: dict[str, Kind] = {"automations": "automation", "campaigns": "campaign"}


def results_address(section: str, source_id: str, **query: str | None) -> str:
    shown = {key: value for key, value in query.items() if value}
    return f"/{section}/{quote(source_id, safe='')}" + (f"?{urlencode(shown)}" if shown else "")


def reply_address(section: str, source_id: str, **query: str | None) -> str:
    """Where the results pane's composer sends, the source, page and customer in the address."""
    shown = {key: value for key, value in query.items() if value}
    return f"/{section}/{quote(source_id, safe='')}/messages?{urlencode(shown)}"


def router(deps: WebDeps) -> APIRouter:
    routes = APIRouter()

    async def source_list(request: Request, section: str, cursor: str | None) -> Response:
        signed_in = await deps.sessions.signed_in(request)
        params = {"kind": SECTIONS[section], "limit": PAGE_SIZE, **({"cursor": cursor} if cursor else {})}
        page = await signed_in.api.get("routing", "/api/v1/sources", params=params)
        context = {
            "person": signed_in.person,
            "section": section,
            "kind": SECTIONS[section],
            "sources": page["items"],
            "next_page": f"/{section}?{urlencode({'cursor': page['next_cursor']})}"
            if page["next_cursor"]
            else None,
            "results_address": results_address,
        }
        return deps.renderer.render(request, "sources.html", context, time_zone=signed_in.person.time_zone)

    async def source_results(
        request: Request,
        section: str,
        source_id: str,
        cursor: str | None,
        conversation: str | None,
        *,
        partial: bool = False,
        **shown: Any,
    ) -> Response:
        kind = SECTIONS[section]
        signed_in = await deps.sessions.signed_in(request)
        api = signed_in.api
        selected_id = conversation_id_of(conversation) if conversation else None
        reached_params = {"limit": PAGE_SIZE, **({"cursor": cursor} if cursor else {})}
        summary, reached = await asyncio.gather(
            api.get("routing", "/api/v1/sources", params={"kind": kind, "id": [source_id], "limit": 1}),
            api.get(
                "routing",
                f"/api/v1/sources/{kind}/{quote(source_id, safe='')}/customers",
                params=reached_params,
            ),
        )
        if not summary["items"]:
            raise NotFound()
        selected = None
        pane: dict[str, Any] = {}
        if selected_id:
            selected = next((r for r in reached["items"] if r["conversation_id"] == selected_id), None)
            if selected is None:  # not reached by this source (or another dealership's)
                raise NotFound()
            pane = await load_conversation(api, selected_id, mark_read=True) | shown
        context = {
            "person": signed_in.person,
            "state": InboxState(),
            "section": section,
            "kind": kind,
            "source": summary["items"][0],
            "reached": reached["items"],
            "cursor": cursor,
            "next_page": results_address(section, source_id, cursor=reached["next_cursor"])
            if reached["next_cursor"]
            else None,
            "selected": selected,
            "results_address": results_address,
            "send_to": reply_address(section, source_id, cursor=cursor, conversation=selected_id),
            **pane,
        }
        template = "source_results.html"
        if selected and (partial or request.headers.get("hx-target") == "reached-detail"):
            template = "partials/reached_detail.html"
        return deps.renderer.render(request, template, context, time_zone=signed_in.person.time_zone)

    for section in SECTIONS:

        def bind(section: str = section) -> None:
            @routes.get(f"/{section}", name=f"{section}_list")
            async def listing(request: Request, cursor: str | None = Query(None, max_length=500)) -> Response:
                return await source_list(request, section, cursor)

            @routes.get(f"/{section}/{{source_id}}", name=f"{section}_results")
            async def results(
                request: Request,
                source_id: str,
                cursor: str | None = Query(None, max_length=500),
                conversation: str | None = Query(None, max_length=100),
            ) -> Response:
                if not 1 <= len(source_id) <= 200:
                    raise NotFound()
                return await source_results(request, section, source_id, cursor, conversation)

            @routes.post(f"/{section}/{{source_id}}/messages", name=f"{section}_reply")
            async def reply(
                request: Request,
                source_id: str,
                conversation: str = Query("", max_length=100),
                cursor: str | None = Query(None, max_length=500),
                body: Annotated[str, Form(max_length=10 * MAX_TEXT)] = "",
                reply_key: Annotated[str, Form(max_length=100)] = "",
            ) -> Response:
                if not 1 <= len(source_id) <= 200:
                    raise NotFound()
                return await send_reply(request, section, source_id, conversation, cursor, body, reply_key)

        bind()

    async def send_reply(
        request: Request,
        section: str,
        source_id: str,
        conversation: str,
        cursor: str | None,
        body: str,
        reply_key: str,
    ) -> Response:
        """A reply to a customer the source reached, with the source as its own: refused beside
        the text (kept) when empty, too long or refused by routing."""
        kind = SECTIONS[section]
        conversation_id = conversation_id_of(conversation)
        signed_in = await deps.sessions.signed_in(request)
        api = signed_in.api
        summary = await api.get(
            "routing", "/api/v1/sources", params={"kind": kind, "id": [source_id], "limit": 1}
        )
        reached = await api.get(
            "routing",
            f"/api/v1/sources/{kind}/{quote(source_id, safe='')}/customers",
            params={"limit": PAGE_SIZE, **({"cursor": cursor} if cursor else {})},
        )
        row = next((r for r in reached["items"] if r["conversation_id"] == conversation_id), None)
        if not summary["items"] or row is None:
            raise NotFound()
        source = summary["items"][0]
        error = "empty" if not body.strip() else "too_long" if len(body) > MAX_TEXT else None
        if error is None:
            try:
                await api.backend.call(
                    "routing",
                    "POST",
                    "/api/v1/outreach",
                    token=api.token,
                    json={
                        "customer_id": row["customer_id"],
                        "body": body,
                        "source": {
                            "kind": kind,
                            "id": source_id,
                            "name": source.get("name"),
                            "url": source.get("url"),
                        },
                    },
                    headers={"Idempotency-Key": reply_key} if reply_key else None,
                )
            except Refused as refused:
                error = refused.message or refused.code
        if error is None and not is_htmx(request):
            address = results_address(section, source_id, cursor=cursor, conversation=conversation_id)
            return RedirectResponse(address, status_code=303)
        shown: dict[str, Any] = {"sent": error is None}
        if error is not None:
            shown |= {"send_error_code": error, "draft": body}
        answer = await source_results(
            request, section, source_id, cursor, conversation_id, partial=is_htmx(request), **shown
        )
        # The composer may be one the Conversations screen rendered (after a note in the pane):
        # the answer is the whole detail, wherever the form aimed.
        answer.headers.update({"HX-Retarget": "#reached-detail", "HX-Reswap": "innerHTML"})
        return answer

    return routes
