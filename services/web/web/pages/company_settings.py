"""Company settings (admins): whether conversations close on their own after days without
activity (off by default), after how many hours an unanswered conversation turns orange, and the
dealership's numbers. Routing owns all of it (`/api/v1/account/settings`, `/api/v1/phone-numbers`)
and its rules; the page sends what was typed and puts a refusal beside the field it names.

Each form's section is a partial: with htmx the form posts and gets its section back (errors
beside the fields, answered 422, or what was saved); without script it posts, then redirects back
(`?updated=`) so a reload never sends it twice, and a refused form is shown again in the whole
page. Either way what was typed is shown again on a refusal."""

import asyncio
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from web.admin import Failed, field_errors, signed_in_admin, whole_number
from web.backend import NotFound, Refused
from web.deps import WebDeps
from web.pages.search import national
from web.rendering import is_htmx
from web.session import SignedIn

PAGE = "/settings/company"
# Shown when automatic closing is off: a starting value for the days box, not a rule.
SUGGESTED_DAYS = 7
UPDATED = {"conversations", "number_added", "number_removed"}


def router(deps: WebDeps) -> APIRouter:
    routes = APIRouter()

    async def page(
        request: Request,
        signed_in: SignedIn,
        failed: Failed | None = None,
        status_code: int = 200,
        *,
        section: str = "",
        updated: str = "",
    ) -> Response:
        """The page, or for htmx only `section`'s partial (the form that was sent)."""
        settings, numbers = await asyncio.gather(
            signed_in.api.get("routing", "/api/v1/account/settings"),
            signed_in.api.get("routing", "/api/v1/phone-numbers"),
        )
        updated = updated or request.query_params.get("updated", "")
        context = {
            "person": signed_in.person,
            "settings": settings,
            "numbers": [{**n, "national": national(n["e164"])} for n in numbers],
            "suggested_days": SUGGESTED_DAYS,
            "failed": failed or Failed(),
            "updated": updated if updated in UPDATED and failed is None else "",
        }
        template = (
            f"partials/company_{section}.html" if section and is_htmx(request) else "company_settings.html"
        )
        return deps.renderer.render(
            request,
            template,
            context,
            time_zone=signed_in.person.time_zone,
            status_code=status_code,
        )

    async def back(request: Request, signed_in: SignedIn, section: str, updated: str) -> Response:
        """Done: htmx gets the section again, saying so; a plain post is redirected."""
        if is_htmx(request):
            return await page(request, signed_in, section=section, updated=updated)
        return RedirectResponse(f"{PAGE}?updated={updated}#{section}", status_code=303)

    @routes.get(PAGE)
    async def company_settings(request: Request) -> Response:
        return await page(request, await signed_in_admin(deps, request))

    @routes.post(f"{PAGE}/conversations")
    async def update_conversations(
        request: Request,
        auto_close: Annotated[str, Form(max_length=10)] = "off",
        auto_close_days: Annotated[str, Form(max_length=20)] = "",
        unanswered_hours: Annotated[str, Form(max_length=20)] = "",
    ) -> Response:
        signed_in = await signed_in_admin(deps, request)
        typed = {
            "auto_close": "on" if auto_close == "on" else "off",
            "auto_close_days": auto_close_days,
            "unanswered_hours": unanswered_hours,
        }
        errors: dict[str, str] = {}
        days = whole_number(auto_close_days)
        hours = whole_number(unanswered_hours)
        if typed["auto_close"] == "on" and days is None:
            errors["auto_close_days"] = "whole_number"
        if hours is None:
            errors["unanswered_hours"] = "whole_number"
        if not errors:
            changes = {
                "auto_close_after_days": days if typed["auto_close"] == "on" else None,
                "unanswered_after_hours": hours,
            }
            try:
                await signed_in.api.patch("routing", "/api/v1/account/settings", json=changes)
            except Refused as refused:
                if refused.status != 422:
                    raise
                errors = field_errors(
                    refused,
                    {
                        "auto_close_after_days": "auto_close_days",
                        "unanswered_after_hours": "unanswered_hours",
                    },
                )
        if errors:
            failed = Failed("conversations", typed, errors)
            return await page(request, signed_in, failed, 422, section="conversations")
        return await back(request, signed_in, "conversations", "conversations")

    @routes.post(f"{PAGE}/numbers")
    async def add_number(
        request: Request,
        number: Annotated[str, Form(max_length=100)] = "",
        carrier: Annotated[str, Form(max_length=20)] = "twilio",
        kind: Annotated[str, Form(max_length=20)] = "long_code",
    ) -> Response:
        signed_in = await signed_in_admin(deps, request)
        typed = {"number": number, "carrier": carrier, "kind": kind}
        errors: dict[str, str] = {}
        if not number.strip():
            errors["number"] = "required"
        else:
            try:
                await signed_in.api.post(
                    "routing",
                    "/api/v1/phone-numbers",
                    json={"number": number.strip(), "carrier": carrier, "kind": kind},
                )
            except Refused as refused:
                if refused.status not in (409, 422):
                    raise
                errors = field_errors(
                    refused, {"number": "number", "carrier": "carrier", "kind": "kind"}, fallback="number"
                )
        if errors:
            failed = Failed("add_number", typed, errors)
            return await page(request, signed_in, failed, 422, section="numbers")
        return await back(request, signed_in, "numbers", "number_added")

    @routes.post(PAGE + "/numbers/{number_id}/remove")
    async def remove_number(request: Request, number_id: str) -> Response:
        signed_in = await signed_in_admin(deps, request)
        try:
            await signed_in.api.delete("routing", f"/api/v1/phone-numbers/{number_id}")
        except NotFound:
            pass  # already removed (twice clicked, or by another admin): the list shows the truth
        except Refused as refused:
            if refused.status != 422:
                raise
        return await back(request, signed_in, "numbers", "number_removed")

    return routes
