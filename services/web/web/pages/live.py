"""The open page's live stream: notifier's `/api/v1/live` relayed with the person's token (the
browser only ever sends its cookie), each event renamed for the htmx triggers of the page, with
its id kept so the browser's `Last-Event-ID` resumes where it stopped. Also the "is replying"
signal a composer sends while someone types."""

import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from uuid import UUID

import httpx
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from httpx_sse import ServerSentEvent, aconnect_sse
from sse_starlette import EventSourceResponse
from sse_starlette import ServerSentEvent as Outgoing

from web.backend import SessionExpired, Unavailable
from web.deps import WebDeps

# notifier pings every few seconds; a read this long without a byte means the stream is dead.
READ_TIMEOUT_SECONDS = 90.0


def router(deps: WebDeps) -> APIRouter:
    routes = APIRouter()

    @routes.get("/live")
    async def live(request: Request, last_event_id: str | None = Query(None, max_length=64)) -> Response:
        """`last_event_id` in the URL: a new EventSource cannot send the header (static/live.js)."""
        token = deps.sessions.token_of(request)
        headers = {"authorization": f"Bearer {token}"}
        if last_event_id := request.headers.get("last-event-id") or last_event_id:
            headers["last-event-id"] = last_event_id
        stack = contextlib.AsyncExitStack()
        try:
            upstream = await stack.enter_async_context(
                aconnect_sse(
                    deps.backend.http,
                    "GET",
                    f"{deps.settings.notifier_url}/api/v1/live",
                    headers=headers,
                    timeout=httpx.Timeout(10.0, read=READ_TIMEOUT_SECONDS),
                )
            )
        except httpx.HTTPError as exc:
            await stack.aclose()
            raise Unavailable("notifier") from exc
        status = upstream.response.status_code
        if status != 200:
            await stack.aclose()
            raise SessionExpired() if status == 401 else Unavailable("notifier")
        localization = deps.renderer.localization(request)

        async def relayed() -> AsyncIterator[Outgoing]:
            async with stack:
                try:
                    async for event in upstream.aiter_sse():
                        for outgoing in for_the_page(event):
                            if outgoing.event and outgoing.event.startswith("typing-"):
                                outgoing.data = deps.renderer.render_string(
                                    "partials/typing.html", {"name": outgoing.data}, localization
                                )
                            yield outgoing
                except httpx.HTTPError:
                    # notifier went away: ending the stream makes the browser reconnect and
                    # resume from its last id.
                    return

        return EventSourceResponse(relayed(), ping=15, headers={"x-accel-buffering": "no"})

    @routes.post("/conversations/{conversation_id}/typing")
    async def typing(request: Request, conversation_id: UUID) -> Response:
        """The person is typing a reply: colleagues with the conversation open see it."""
        api = deps.backend.as_user(deps.sessions.token_of(request))
        await api.post("notifier", "/api/v1/presence/typing", json={"conversation_id": str(conversation_id)})
        return Response(status_code=204)

    return routes


def for_the_page(event: ServerSentEvent) -> Iterator[Outgoing]:
    """notifier's events as the page's triggers: `inbox` refreshes the list and its counts,
    `conversation-<id>` the open conversation, `bell` the notifications, `typing-<id>` shows who
    is replying, `resync` reloads what the page shows."""
    try:
        data = json.loads(event.data) if event.data else {}
    except ValueError:
        return
    event_id = event.id or None
    if event.event == "conversation" and data.get("conversation_id"):
        yield Outgoing(data=data.get("change", ""), event="inbox", id=event_id)
        yield Outgoing(
            data=data.get("change", ""), event=f"conversation-{data['conversation_id']}", id=event_id
        )
    elif event.event == "notification":
        yield Outgoing(data=str(data.get("unread", "")), event="bell", id=event_id)
    elif event.event == "typing" and data.get("conversation_id"):
        yield Outgoing(data=data.get("name") or "", event=f"typing-{data['conversation_id']}")
    elif event.event in ("resync", "ready"):
        yield Outgoing(data=event.event, event=event.event, id=event_id)
