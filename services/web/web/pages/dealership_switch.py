"""The dealership switcher of a dealer group's staff (top bar, shown to people who work at more
than one dealership): routing checks that they work there and answers a token for it, which
replaces the session cookie's. Every page after that shows the other dealership only."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from web.backend import NotFound
from web.deps import WebDeps


def router(deps: WebDeps) -> APIRouter:
    routes = APIRouter()

    @routes.post("/dealership")
    async def switch_dealership(
        request: Request, account_id: Annotated[str, Form(max_length=64)] = ""
    ) -> Response:
        signed_in = await deps.sessions.signed_in(request)
        try:
            chosen = str(UUID(account_id))
        except ValueError as exc:
            raise NotFound() from exc  # not a dealership of theirs, as routing would say
        # Not theirs: 404 page; suspended meanwhile (the menu lists open ones only): routing's
        # plain message, and they stay where they are.
        answer = await signed_in.api.post("routing", "/api/v1/auth/switch", json={"account_id": chosen})
        signed_in.api.forget_recent()
        # The list, not the page they were on: its conversation belongs to the other dealership.
        response = RedirectResponse("/conversations", status_code=303)
        deps.sessions.start(response, answer["access_token"])
        return response

    return routes
