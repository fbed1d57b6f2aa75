"""DMS integrations (admins): one per integrator (the dealership's DMS, or whoever connects it),
each with a secret the integrator sends with every event. Ingest owns them and their rules
(`/api/v1/dms/integrations`): the name is unique among the active ones, a rotation keeps the
previous secret working for an overlap, a revoked integration's secret is refused at once.

A secret exists once, in ingest's answer to a create or a rotation: the page shows it then, in
that answer (never in a URL, a redirect or a cookie), with `Cache-Control: no-store`, and says
plainly to copy it now. Revoking posts, then redirects back (`?updated=`)."""

import contextlib
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from web.admin import Failed, field_errors, signed_in_admin
from web.backend import NotFound, Refused
from web.deps import WebDeps
from web.session import SignedIn

PAGE = "/settings/dms-integrations"
API = "/api/v1/dms/integrations"
UPDATED = {"revoked"}
NO_STORE = {"cache-control": "no-store"}


def router(deps: WebDeps) -> APIRouter:
    routes = APIRouter()

    async def page(
        request: Request,
        signed_in: SignedIn,
        *,
        issued: dict | None = None,
        issued_by: str = "",
        failed: Failed | None = None,
        status_code: int = 200,
    ) -> Response:
        integrations = await signed_in.api.get("ingest", API)
        updated = request.query_params.get("updated", "")
        context = {
            "person": signed_in.person,
            "integrations": integrations,
            "issued": issued,
            "issued_by": issued_by,
            "failed": failed or Failed(),
            "updated": updated if updated in UPDATED and failed is None and issued is None else "",
        }
        return deps.renderer.render(
            request,
            "dms_integrations.html",
            context,
            time_zone=signed_in.person.time_zone,
            status_code=status_code,
            headers=NO_STORE,
        )

    @routes.get(PAGE)
    async def dms_integrations(request: Request) -> Response:
        return await page(request, await signed_in_admin(deps, request))

    @routes.post(PAGE)
    async def create(request: Request, name: Annotated[str, Form(max_length=500)] = "") -> Response:
        signed_in = await signed_in_admin(deps, request)
        typed = {"name": name}
        if not name.strip():
            return await page(
                request, signed_in, failed=Failed("create", typed, {"name": "required"}), status_code=422
            )
        try:
            issued = await signed_in.api.post("ingest", API, json={"name": name.strip()})
        except Refused as refused:
            if refused.status not in (409, 422):
                raise
            errors = field_errors(refused, {"name": "name"}, fallback="name")
            return await page(request, signed_in, failed=Failed("create", typed, errors), status_code=422)
        return await page(request, signed_in, issued=issued, issued_by="created")

    @routes.post(PAGE + "/{integration_id}/rotate")
    async def rotate(
        request: Request, integration_id: UUID, leaked: Annotated[str, Form(max_length=10)] = ""
    ) -> Response:
        signed_in = await signed_in_admin(deps, request)
        # A leaked secret must stop at once; otherwise ingest's default overlap applies.
        body = {"overlap_hours": 0} if leaked == "on" else None
        try:
            issued = await signed_in.api.post("ingest", f"{API}/{integration_id}/rotate", json=body)
        except Refused as refused:
            if refused.status != 409:
                raise
            failed = Failed(f"rotate:{integration_id}", {}, {"": refused.code})
            return await page(request, signed_in, failed=failed, status_code=409)
        return await page(request, signed_in, issued=issued, issued_by="rotated")

    @routes.post(PAGE + "/{integration_id}/revoke")
    async def revoke(request: Request, integration_id: UUID) -> Response:
        signed_in = await signed_in_admin(deps, request)
        # Not found: another dealership's id, or a stale page; the list shows the truth.
        with contextlib.suppress(NotFound):
            await signed_in.api.post("ingest", f"{API}/{integration_id}/revoke")
        return RedirectResponse(f"{PAGE}?updated=revoked#integrations", status_code=303)

    return routes
