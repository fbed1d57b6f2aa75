"""The customer profile, `/customers/{id}`: names, phones with their type, the DMS identity,
profile notes, and (`?tab=conversations`) the active conversation and every conversation archived
by a profile merge, each a link to its readable timeline. Everything is routing's
(`/api/v1/customers/{id}`, its phones and notes, `/api/v1/conversations/{id}`).

Forms post to this screen and come back to it (post, redirect, get); the note form also works
with htmx, which swaps the notes section (`partials/customer_notes.html`)."""

import asyncio
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from web.backend import NotFound, Refused, UserApi
from web.deps import WebDeps
from web.rendering import is_htmx
from web.session import SignedIn

PAGE = "customer.html"
NOTES = "partials/customer_notes.html"
MAX_NOTE = 5000
MAX_NAME = 200
PHONE_KINDS = ("mobile", "landline", "unknown")
TABS = ("profile", "conversations")


def customer_id_of(raw: str) -> str:
    """A made-up id answers like one of another dealership: not found."""
    try:
        return str(UUID(raw))
    except ValueError:
        raise NotFound() from None


async def conversation_or_none(api: UserApi, conversation_id: str) -> dict[str, Any] | None:
    try:
        return await api.get("routing", f"/api/v1/conversations/{conversation_id}")
    except NotFound:
        return None


async def load(api: UserApi, customer_id: str) -> dict[str, Any]:
    path = f"/api/v1/customers/{customer_id}"
    customer, notes = await asyncio.gather(api.get("routing", path), api.get("routing", f"{path}/notes"))
    ids = ([customer["active_conversation_id"]] if customer.get("active_conversation_id") else []) + list(
        reversed(customer.get("archived_conversation_ids") or [])
    )
    found = await asyncio.gather(*(conversation_or_none(api, cid) for cid in ids))
    conversations = [c for c in found if c is not None]
    return {"customer": customer, "notes": notes["items"], "conversations": conversations}


def router(deps: WebDeps) -> APIRouter:
    routes = APIRouter()

    async def show(
        request: Request,
        signed_in: SignedIn,
        customer_id: str,
        *,
        tab: str = "profile",
        template: str = PAGE,
        status_code: int = 200,
        **shown: Any,
    ) -> Response:
        loaded = await load(signed_in.api, customer_id)
        customer = loaded["customer"]
        context = {
            "person": signed_in.person,
            "section": "conversations",
            "tab": tab if tab in TABS else "profile",
            "names": {
                "first_name": customer.get("first_name") or "",
                "last_name": customer.get("last_name") or "",
            },
            "note_draft": "",
            "errors": {},
            "notice": None,
            **loaded,
            **shown,
        }
        return deps.renderer.render(
            request, template, context, time_zone=signed_in.person.time_zone, status_code=status_code
        )

    @routes.get("/customers/{customer_id}")
    async def customer_page(
        request: Request, customer_id: str, tab: str = "profile", done: str | None = None
    ) -> Response:
        signed_in = await deps.sessions.signed_in(request)
        notice = done if done in ("names", "phone", "note") else None
        return await show(request, signed_in, customer_id_of(customer_id), tab=tab, notice=notice)

    def back(customer_id: str, done: str) -> Response:
        return RedirectResponse(f"/customers/{customer_id}?done={done}", status_code=303)

    @routes.post("/customers/{customer_id}/names")
    async def change_names(
        request: Request,
        customer_id: str,
        first_name: Annotated[str, Form(max_length=2000)] = "",
        last_name: Annotated[str, Form(max_length=2000)] = "",
    ) -> Response:
        customer_id = customer_id_of(customer_id)
        signed_in = await deps.sessions.signed_in(request)
        names = {"first_name": first_name, "last_name": last_name}
        errors = {field: "too_long" for field, value in names.items() if len(value.strip()) > MAX_NAME}
        if not errors:
            try:
                await signed_in.api.patch(
                    "routing",
                    f"/api/v1/customers/{customer_id}",
                    json={k: v.strip() for k, v in names.items()},
                )
            except Refused as refused:
                if refused.status != 422:
                    raise
                errors["first_name"] = "invalid"
        if errors:
            return await show(request, signed_in, customer_id, names=names, errors=errors, status_code=422)
        return back(customer_id, "names")

    @routes.post("/customers/{customer_id}/phones/{phone_id}")
    async def change_phone_kind(
        request: Request, customer_id: str, phone_id: str, kind: Annotated[str, Form(max_length=20)] = ""
    ) -> Response:
        customer_id = customer_id_of(customer_id)
        phone_id = customer_id_of(phone_id)
        signed_in = await deps.sessions.signed_in(request)
        if kind not in PHONE_KINDS:
            return await show(
                request, signed_in, customer_id, errors={f"phone-{phone_id}": "kind"}, status_code=422
            )
        await signed_in.api.patch(
            "routing", f"/api/v1/customers/{customer_id}/phones/{phone_id}", json={"kind": kind}
        )
        return back(customer_id, "phone")

    @routes.post("/customers/{customer_id}/notes")
    async def add_note(
        request: Request, customer_id: str, body: Annotated[str, Form(max_length=20000)] = ""
    ) -> Response:
        customer_id = customer_id_of(customer_id)
        signed_in = await deps.sessions.signed_in(request)
        error = None
        if not body.strip():
            error = "required"
        elif len(body.strip()) > MAX_NOTE:
            error = "too_long"
        else:
            try:
                await signed_in.api.post(
                    "routing", f"/api/v1/customers/{customer_id}/notes", json={"body": body}
                )
            except Refused as refused:
                if refused.status != 422:
                    raise
                error = "invalid"
        if error:
            template = NOTES if is_htmx(request) else PAGE
            return await show(
                request,
                signed_in,
                customer_id,
                template=template,
                note_draft=body,
                errors={"note": error},
                status_code=422 if template == PAGE else 200,
            )
        if is_htmx(request):
            return await show(request, signed_in, customer_id, template=NOTES, notice="note")
        return back(customer_id, "note")

    return routes
