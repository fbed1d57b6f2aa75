"""Saved replies, `/saved-replies`: the account's reusable texts. Create, edit (`?edit=<id>`),
delete; placeholders come from routing's list and are inserted at the cursor
(static/saved_replies.js); a draft is previewed by routing (`POST /api/v1/saved-replies/preview`)
before it is saved, and a template routing refuses is shown with routing's own message beside the
field, with everything typed kept.

The preview button posts the form with htmx (target `#reply-preview`) and answers the preview
partial; without script the same button re-renders the whole page with the form as typed. Saving
works the same way: with htmx the form gets its own partial back (a refusal answered 422 with the
errors beside the fields, everything typed kept; a save with an empty form, the notice and the
list out of band), without script it posts and redirects back."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from web.backend import NotFound, Refused, UserApi
from web.deps import WebDeps
from web.rendering import is_htmx
from web.session import SignedIn

PAGE = "saved_replies.html"
PREVIEW = "partials/saved_reply_preview.html"
FORM = "partials/saved_reply_form.html"
API = "/api/v1/saved-replies"
MAX_NAME = 100
MAX_BODY_FALLBACK = 1600


def reply_id_of(raw: str) -> str:
    """A made-up id answers like one of another dealership: not found."""
    try:
        return str(UUID(raw))
    except ValueError:
        raise NotFound() from None


def router(deps: WebDeps) -> APIRouter:
    routes = APIRouter()

    async def catalogue(api: UserApi) -> dict[str, Any]:
        return await api.get("routing", f"{API}/placeholders")

    async def show(
        request: Request,
        signed_in: SignedIn,
        *,
        editing: str | None = None,
        form: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        preview: dict[str, Any] | None = None,
        notice: str | None = None,
        status_code: int = 200,
        form_only: bool = False,
    ) -> Response:
        """The page, or with `form_only` (htmx) the form's partial (after a save, with the list)."""
        api = signed_in.api
        replies, placeholders = await api.get("routing", API), await catalogue(api)
        if editing is not None and form is None:
            found = next((r for r in replies if r["id"] == editing), None)
            if found is None:
                raise NotFound()
            form = {"name": found["name"], "body": found["body"]}
        context = {
            "person": signed_in.person,
            "section": "saved-replies",
            "replies": replies,
            "editing": editing,
            "form": form or {"name": "", "body": ""},
            "errors": errors or {},
            "preview": preview,
            "notice": notice,
            "placeholders": placeholders["placeholders"],
            "max_body": placeholders.get("max_body_length") or MAX_BODY_FALLBACK,
        }
        template = PAGE
        if form_only and is_htmx(request):
            template = FORM
            context["replies_oob"] = notice is not None
        return deps.renderer.render(
            request, template, context, time_zone=signed_in.person.time_zone, status_code=status_code
        )

    @routes.get("/saved-replies")
    async def saved_replies(request: Request, edit: str | None = None, done: str | None = None) -> Response:
        signed_in = await deps.sessions.signed_in(request)
        editing = reply_id_of(edit) if edit else None
        notice = done if done in ("created", "saved", "deleted") else None
        return await show(request, signed_in, editing=editing, notice=notice)

    async def preview_of(api: UserApi, body: str) -> tuple[dict[str, Any] | None, dict[str, str]]:
        """Routing's rendering of the draft, or the problem to show beside the text."""
        if not body.strip():
            return None, {"body": "required"}
        try:
            return await api.post("routing", f"{API}/preview", json={"body": body}), {}
        except Refused as refused:
            if refused.status != 422:
                raise
            return None, {"body": template_problem(refused)}

    def checked(name: str, body: str, max_body: int) -> dict[str, str]:
        errors: dict[str, str] = {}
        if not name.strip():
            errors["name"] = "required"
        elif len(name.strip()) > MAX_NAME:
            errors["name"] = "too_long"
        if not body.strip():
            errors["body"] = "required"
        elif len(body) > max_body:
            errors["body"] = "too_long"
        return errors

    async def save(request: Request, reply_id: str | None, name: str, body: str, intent: str) -> Response:
        signed_in = await deps.sessions.signed_in(request)
        api = signed_in.api
        form = {"name": name, "body": body}
        if intent == "preview":
            preview, errors = await preview_of(api, body)
            if is_htmx(request):
                context = {"preview": preview, "errors": errors}
                return deps.renderer.render(request, PREVIEW, context, time_zone=signed_in.person.time_zone)
            return await show(request, signed_in, editing=reply_id, form=form, errors=errors, preview=preview)
        errors = checked(name, body, (await catalogue(api)).get("max_body_length") or MAX_BODY_FALLBACK)
        if not errors:
            payload = {"name": name.strip(), "body": body}
            try:
                if reply_id:
                    await api.patch("routing", f"{API}/{reply_id}", json=payload)
                else:
                    await api.post("routing", API, json=payload)
            except Refused as refused:
                if refused.code == "name_taken":
                    errors["name"] = "name_taken"
                elif refused.code == "invalid_template":
                    errors["body"] = template_problem(refused)
                elif refused.status == 422:
                    errors["body"] = refused.message or "invalid"
                else:
                    raise
        if errors:
            return await show(
                request,
                signed_in,
                editing=reply_id,
                form=form,
                errors=errors,
                status_code=422,
                form_only=True,
            )
        done = "saved" if reply_id else "created"
        if is_htmx(request):
            # The form is a new one again: the address says so (no `?edit=`).
            answer = await show(request, signed_in, notice=done, form_only=True)
            answer.headers["HX-Push-Url"] = f"/saved-replies?done={done}"
            return answer
        return RedirectResponse(f"/saved-replies?done={done}", status_code=303)

    @routes.post("/saved-replies")
    async def create(
        request: Request,
        name: Annotated[str, Form(max_length=1000)] = "",
        body: Annotated[str, Form(max_length=20000)] = "",
        intent: Annotated[str, Form(max_length=20)] = "save",
    ) -> Response:
        return await save(request, None, name, body, intent)

    @routes.post("/saved-replies/{reply_id}")
    async def update(
        request: Request,
        reply_id: str,
        name: Annotated[str, Form(max_length=1000)] = "",
        body: Annotated[str, Form(max_length=20000)] = "",
        intent: Annotated[str, Form(max_length=20)] = "save",
    ) -> Response:
        return await save(request, reply_id_of(reply_id), name, body, intent)

    @routes.post("/saved-replies/{reply_id}/delete")
    async def delete(request: Request, reply_id: str) -> Response:
        signed_in = await deps.sessions.signed_in(request)
        await signed_in.api.delete("routing", f"{API}/{reply_id_of(reply_id)}")
        return RedirectResponse("/saved-replies?done=deleted", status_code=303)

    return routes


def template_problem(refused: Refused) -> str:
    """Routing's own words for what is wrong with the text: each problem it found."""
    details = refused.details if isinstance(refused.details, dict) else {}
    problems = [p.get("message") for p in details.get("problems") or [] if isinstance(p, dict)]
    return "; ".join(m for m in problems if m) or refused.message or "invalid"
