"""Carrier setup (admins): the Twilio or Telnyx credentials, entered once. Each part is stored
where it is used, which the person never needs to know: ingest verifies the carrier's webhooks
(and reads missed texts back) with `/api/v1/carrier-webhook-credentials/{carrier}`, notifier
sends with `/api/v1/carrier-accounts/{carrier}`. Twilio's Account SID and auth token go to both;
Telnyx's public key and API key to ingest, its API key and messaging profile to notifier.

Receiving is saved first, then sending. Both PUTs replace what was there, so sending the form
again is always safe; when the second fails after the first worked, the page says exactly which
half is set. What is set is shown masked, from both services' own answers, and the connection is
tested through notifier (`POST /api/v1/carrier-accounts/{carrier}/test`).

With htmx the form gets its own section back (errors beside the fields, 422; the secrets typed
stay in the browser, never sent back) and what is set is refreshed beside it; without script the
form posts and redirects back, and a refusal clears the secrets and says so."""

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from web.admin import Failed, field_errors, signed_in_admin
from web.backend import NotFound, Refused, Unavailable
from web.deps import WebDeps
from web.rendering import is_htmx
from web.session import SignedIn

PAGE = "/settings/carrier"
CARRIERS = ("twilio", "telnyx")
WEBHOOKS = "/api/v1/carrier-webhook-credentials"
SENDING = "/api/v1/carrier-accounts"
TEST_RESULTS = {
    *("connected", "refused", "inactive", "profile_not_found", "unavailable", "unexpected", "not_set")
}
Carrier = Literal["twilio", "telnyx"]


def router(deps: WebDeps) -> APIRouter:
    routes = APIRouter()

    async def stored(signed_in: SignedIn, service: Literal["ingest", "notifier"], path: str) -> dict | None:
        """{carrier: view} as the service answers; None when it could not be asked."""
        try:
            views = await signed_in.api.get(service, path)
        except (Unavailable, NotFound):
            return None
        return {view["carrier"]: view for view in views}

    async def page(
        request: Request,
        signed_in: SignedIn,
        carrier: str,
        failed: Failed | None = None,
        status_code: int = 200,
        *,
        section: str = "",
        saved: bool = False,
        tested: str = "",
    ) -> Response:
        """The page, or for htmx only `section` (credentials: with what is set, out of band)."""
        receiving, sending = await asyncio.gather(
            stored(signed_in, "ingest", WEBHOOKS), stored(signed_in, "notifier", SENDING)
        )
        if carrier not in CARRIERS:
            # The carrier already set up, or Twilio.
            known = sending or {}
            carrier = "telnyx" if "telnyx" in known and "twilio" not in known else "twilio"
        query = request.query_params
        tested = tested or query.get("tested", "")
        context = {
            "person": signed_in.person,
            "carrier": carrier,
            "receiving": receiving,
            "sending": sending,
            "failed": failed or Failed(),
            "saved": failed is None and (saved or query.get("saved") == carrier),
            "tested": tested if tested in TEST_RESULTS and failed is None else "",
        }
        template = "carrier_setup.html"
        if section and is_htmx(request):
            template = f"partials/carrier_{section}.html"
            # A save changes what is set: the status beside the form follows.
            context["with_status"] = section == "credentials" and failed is None
        return deps.renderer.render(
            request,
            template,
            context,
            time_zone=signed_in.person.time_zone,
            status_code=status_code,
        )

    @routes.get(PAGE)
    async def carrier_setup(request: Request, carrier: str = "") -> Response:
        return await page(request, await signed_in_admin(deps, request), carrier)

    async def save(
        request: Request,
        carrier: Carrier,
        typed: dict[str, Any],
        required: tuple[str, ...],
        receiving: dict[str, Any],
        sending: dict[str, Any],
    ) -> Response:
        """PUT receiving (ingest), then sending (notifier). `typed` is shown again on a refusal,
        without the secrets (the page says they were cleared)."""
        signed_in = await signed_in_admin(deps, request)
        shown = {k: v for k, v in typed.items() if k not in ("auth_token", "api_key")}
        errors = {name: "required" for name in required if not str(typed.get(name, "")).strip()}
        fields = {name: name for name in typed}
        if not errors:
            try:
                await signed_in.api.put("ingest", f"{WEBHOOKS}/{carrier}", json=receiving)
            except Unavailable:
                errors = {"": "nothing_saved_unavailable"}
            except Refused as refused:
                if refused.status not in (409, 422):
                    raise
                errors = field_errors(refused, fields, fallback=_field_of(refused))
        if not errors:
            try:
                await signed_in.api.put("notifier", f"{SENDING}/{carrier}", json=sending)
            except Unavailable:
                errors = {"": "half_saved", "reason": "unavailable"}
            except Refused as refused:
                if refused.status not in (409, 422):
                    raise
                fallback = _field_of(refused) or "reason"
                errors = {"": "half_saved", **field_errors(refused, fields, fallback=fallback)}
        if errors:
            failed = Failed(carrier, shown, errors)
            unreachable = "unavailable" in errors.values() or errors.get("") == "nothing_saved_unavailable"
            status = 503 if unreachable else 422
            return await page(request, signed_in, carrier, failed, status, section="credentials")
        if is_htmx(request):
            return await page(request, signed_in, carrier, section="credentials", saved=True)
        return RedirectResponse(f"{PAGE}?carrier={carrier}&saved={carrier}#status", status_code=303)

    @routes.post(f"{PAGE}/twilio")
    async def save_twilio(
        request: Request,
        account_sid: Annotated[str, Form(max_length=200)] = "",
        auth_token: Annotated[str, Form(max_length=500)] = "",
    ) -> Response:
        sid, token = account_sid.strip(), auth_token.strip()
        both = {"account_sid": sid, "auth_token": token}
        return await save(
            request, "twilio", {"account_sid": account_sid, "auth_token": token}, tuple(both), both, both
        )

    @routes.post(f"{PAGE}/telnyx")
    async def save_telnyx(
        request: Request,
        api_key: Annotated[str, Form(max_length=500)] = "",
        messaging_profile_id: Annotated[str, Form(max_length=200)] = "",
        public_key: Annotated[str, Form(max_length=500)] = "",
    ) -> Response:
        key, profile, public = api_key.strip(), messaging_profile_id.strip(), public_key.strip()
        typed = {"api_key": key, "messaging_profile_id": messaging_profile_id, "public_key": public_key}
        sending: dict[str, Any] = {"api_key": key, "messaging_profile_id": profile or None}
        receiving = {"public_key": public, "api_key": key}
        return await save(request, "telnyx", typed, ("api_key", "public_key"), receiving, sending)

    @routes.post(PAGE + "/{carrier}/test")
    async def test_connection(request: Request, carrier: str) -> Response:
        signed_in = await signed_in_admin(deps, request)
        if carrier not in CARRIERS:
            raise NotFound()
        try:
            answer = await signed_in.api.post("notifier", f"{SENDING}/{carrier}/test")
            result = answer.get("code") if answer.get("code") in TEST_RESULTS else "unexpected"
        except NotFound:
            result = "not_set"
        except Unavailable:
            result = "unavailable"
        if is_htmx(request):
            return await page(request, signed_in, carrier, section="status", tested=result)
        return RedirectResponse(f"{PAGE}?carrier={carrier}&tested={result}#test", status_code=303)

    return routes


def _field_of(refused: Refused) -> str:
    """Where a refusal without field details belongs."""
    return "account_sid" if refused.code == "account_sid_taken" else ""
