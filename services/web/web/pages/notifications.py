"""The notifications bell in the top bar: the unread count (GET /notifications/bell, a stable
partial with id="bell" that the live layer re-fetches), the panel listing the latest ones with
links to their conversations, and marking one or all read. notifier owns the notifications."""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import Response

from web.deps import WebDeps
from web.session import SignedIn

PANEL_SIZE = 20
MAX_ID = 2**63 - 1


def router(deps: WebDeps) -> APIRouter:
    routes = APIRouter()

    @routes.get("/notifications/bell")
    async def bell(request: Request) -> Response:
        api = deps.backend.as_user(deps.sessions.token_of(request))
        count = await api.get("notifier", "/api/v1/notifications/unread-count")
        return deps.renderer.render(request, "partials/bell.html", {"unread": count["unread"]})

    @routes.get("/notifications/panel")
    async def panel(request: Request) -> Response:
        signed_in = await deps.sessions.signed_in(request)
        return await render_panel(request, signed_in)

    @routes.post("/notifications/{notification_id}/read")
    async def mark_one_read(
        request: Request, notification_id: Annotated[int, Path(ge=1, le=MAX_ID)]
    ) -> Response:
        signed_in = await deps.sessions.signed_in(request)
        await signed_in.api.post("notifier", f"/api/v1/notifications/{notification_id}/read")
        return await render_panel(request, signed_in)

    @routes.post("/notifications/read-all")
    async def mark_all_read(
        request: Request, up_to_id: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None
    ) -> Response:
        """Up to the newest one the panel showed: one that arrived meanwhile stays unread."""
        signed_in = await deps.sessions.signed_in(request)
        body = {"up_to_id": up_to_id} if up_to_id else {}
        await signed_in.api.post("notifier", "/api/v1/notifications/read-all", json=body)
        return await render_panel(request, signed_in)

    async def render_panel(request: Request, signed_in: SignedIn) -> Response:
        page, count = await _panel_data(signed_in)
        context = {"notifications": [shown(n) for n in page["items"]], "unread": count["unread"]}
        return deps.renderer.render(
            request, "partials/notifications_panel.html", context, time_zone=signed_in.person.time_zone
        )

    return routes


async def _panel_data(signed_in: SignedIn) -> tuple[dict, dict]:
    page = await signed_in.api.get("notifier", "/api/v1/notifications", params={"limit": PANEL_SIZE})
    count = await signed_in.api.get("notifier", "/api/v1/notifications/unread-count")
    return page, count


def shown(notification: dict[str, Any]) -> dict[str, Any]:
    """A notification with the page it opens: its conversation, or my list for an assignment
    of several conversations at once."""
    data = notification.get("data") or {}
    if data.get("conversation_id"):
        link = f"/conversations/{data['conversation_id']}"
    elif data.get("conversation_ids"):
        link = "/conversations?view=mine"
    else:
        link = None
    return {**notification, "link": link, "unread": notification.get("read_at") is None}
