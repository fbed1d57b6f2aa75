"""My profile, `/profile`: the person's language, time zone and e-mail notification choices.
Language and time zone are theirs in routing (`PATCH /api/v1/me`), the e-mail choices are
notifier's (`/api/v1/notification-preferences`); the page only shows and sends them."""

import asyncio
from typing import Annotated, Any
from zoneinfo import available_timezones

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from web.backend import Refused
from web.deps import WebDeps
from web.i18n import SUPPORTED
from web.pages.signin import remember_language
from web.session import SignedIn

TEMPLATE = "profile.html"
# The kinds notifier can e-mail, in the order the page lists them.
EMAIL_KINDS = (
    "message_received",
    "conversation_assigned",
    "mentioned",
    "delivery_failed",
    "export_completed",
)
ZONES = tuple(sorted(zone for zone in available_timezones() if "/" in zone and not zone.startswith("Etc/")))


def router(deps: WebDeps) -> APIRouter:
    routes = APIRouter()

    async def show(
        request: Request,
        signed_in: SignedIn,
        *,
        form: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        saved: bool = False,
        status_code: int = 200,
    ) -> Response:
        preferences = await signed_in.api.get("notifier", "/api/v1/notification-preferences")
        person = signed_in.person
        shown = form or {
            "language": person.language or "",
            "time_zone": person.own_time_zone or "",
            "email": {kind for kind, on in (preferences.get("email") or {}).items() if on},
        }
        kinds = [k for k in EMAIL_KINDS if k in (preferences.get("email") or {})] or list(EMAIL_KINDS)
        context = {
            "person": person,
            "section": "profile",
            "form": shown,
            "errors": errors or {},
            "saved": saved,
            "zones": ZONES,
            "email_kinds": kinds,
        }
        return deps.renderer.render(
            request, TEMPLATE, context, time_zone=person.time_zone, status_code=status_code
        )

    @routes.get("/profile")
    async def profile(request: Request, saved: bool = False) -> Response:
        signed_in = await deps.sessions.signed_in(request)
        return await show(request, signed_in, saved=saved)

    @routes.post("/profile")
    async def save_profile(
        request: Request,
        language: Annotated[str, Form(max_length=20)] = "",
        time_zone: Annotated[str, Form(max_length=100)] = "",
        email: Annotated[list[str] | None, Form()] = None,
    ) -> Response:
        signed_in = await deps.sessions.signed_in(request)
        chosen = set(email or [])
        form = {"language": language, "time_zone": time_zone, "email": chosen}
        errors: dict[str, str] = {}
        if language and language not in SUPPORTED:
            errors["language"] = "unsupported_language"
        if time_zone and time_zone not in ZONES:
            errors["time_zone"] = "unknown_time_zone"
        if chosen - set(EMAIL_KINDS):
            errors["email"] = "unknown_kind"
        if not errors:
            try:
                await asyncio.gather(
                    signed_in.api.patch(
                        "routing",
                        "/api/v1/me",
                        json={"language": language or None, "time_zone": time_zone or None},
                    ),
                    signed_in.api.put(
                        "notifier",
                        "/api/v1/notification-preferences",
                        json={"email": {kind: kind in chosen for kind in EMAIL_KINDS}},
                    ),
                )
            except Refused as refused:
                if refused.status != 422:
                    raise
                errors[_refused_field(refused)] = "refused"
        if errors:
            return await show(request, signed_in, form=form, errors=errors, status_code=422)
        response = RedirectResponse("/profile?saved=true", status_code=303)
        if language:
            remember_language(response, language)
        else:
            response.delete_cookie("sb_lang", samesite="lax", httponly=True)
        return response

    return routes


def _refused_field(refused: Refused) -> str:
    """Which field routing or notifier refused (their `details` name its location)."""
    text = str(refused.details or "") + refused.message
    for field in ("language", "time_zone"):
        if field in text:
            return field
    return "email"
