"""Account access without a session: accepting an invitation (the invitee sets their own
password), asking for a password reset and setting a new password from the e-mailed link.
Routing checks the link and the password; on success it answers a login token, which becomes
the session cookie as on sign-in."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from web.backend import Refused, SessionExpired, Unavailable
from web.deps import WebDeps

MAX_PASSWORD = 1000
# Routing's answers for a link that cannot be used any more (410) or was never valid (400).
LINK_PROBLEMS = {
    "invitation_used": "used",
    "reset_used": "used",
    "invitation_revoked": "revoked",
    "invitation_expired": "expired",
    "reset_expired": "expired",
}
PASSWORD_PROBLEMS = {
    "password_too_short": "too_short",
    "password_too_common": "too_common",
    # A dealer group's person joining another dealership confirms the password they have.
    "wrong_password": "wrong_password",
}
PURPOSES = {
    "invitation": {"action": "/invitations/accept", "api": "/api/v1/invitations/accept"},
    "reset": {"action": "/password-reset", "api": "/api/v1/password-resets/accept"},
}


def router(deps: WebDeps) -> APIRouter:
    routes = APIRouter()

    def set_password_page(
        request: Request,
        purpose: str,
        token: str,
        *,
        errors: dict[str, str] | None = None,
        link_problem: str | None = None,
        problem: str | None = None,
        status_code: int = 200,
    ) -> Response:
        context = {
            "purpose": purpose,
            "action": PURPOSES[purpose]["action"],
            "token": token,
            "errors": errors or {},
            "link_problem": link_problem or (None if token else "invalid"),
            "problem": problem,
        }
        return deps.renderer.render(request, "set_password.html", context, status_code=status_code)

    async def set_password(
        request: Request, purpose: str, token: str, password: str, confirmation: str
    ) -> Response:
        if not token:
            return set_password_page(request, purpose, token, status_code=400)
        if password != confirmation:
            return set_password_page(
                request, purpose, token, errors={"confirmation": "mismatch"}, status_code=422
            )
        try:
            answer = await deps.backend.call(
                "routing",
                "POST",
                PURPOSES[purpose]["api"],
                token=None,
                json={"token": token, "password": password},
            )
        except Refused as refused:
            if refused.status == 422:
                problem = PASSWORD_PROBLEMS.get(refused.code, "refused")
                return set_password_page(
                    request, purpose, token, errors={"password": problem}, status_code=422
                )
            link_problem = LINK_PROBLEMS.get(refused.code, "invalid")
            return set_password_page(
                request, purpose, token, link_problem=link_problem, status_code=refused.status
            )
        except SessionExpired:
            return set_password_page(request, purpose, token, link_problem="invalid", status_code=400)
        except Unavailable:
            return set_password_page(request, purpose, token, problem="unavailable", status_code=503)
        response = RedirectResponse("/conversations", status_code=303)
        deps.sessions.start(response, answer["access_token"])
        return response

    @routes.get("/invitations/accept")
    async def invitation_form(request: Request, token: str = "") -> Response:
        return set_password_page(request, "invitation", token)

    @routes.post("/invitations/accept")
    async def accept_invitation(
        request: Request,
        token: Annotated[str, Form(max_length=2000)] = "",
        password: Annotated[str, Form(max_length=MAX_PASSWORD)] = "",
        confirmation: Annotated[str, Form(max_length=MAX_PASSWORD)] = "",
    ) -> Response:
        return await set_password(request, "invitation", token, password, confirmation)

    @routes.get("/password-reset")
    async def reset_form(request: Request, token: str = "") -> Response:
        return set_password_page(request, "reset", token)

    @routes.post("/password-reset")
    async def reset_password(
        request: Request,
        token: Annotated[str, Form(max_length=2000)] = "",
        password: Annotated[str, Form(max_length=MAX_PASSWORD)] = "",
        confirmation: Annotated[str, Form(max_length=MAX_PASSWORD)] = "",
    ) -> Response:
        return await set_password(request, "reset", token, password, confirmation)

    @routes.get("/forgot-password")
    async def forgot_form(request: Request) -> Response:
        return deps.renderer.render(request, "forgot_password.html", {"sent": False, "problem": None})

    @routes.post("/forgot-password")
    async def forgot(request: Request, email: Annotated[str, Form(max_length=320)] = "") -> Response:
        """The same answer whether or not the address has an account: nobody learns who works
        at the dealership from this form."""
        problem = None
        try:
            await deps.backend.call(
                "routing", "POST", "/api/v1/password-resets", token=None, json={"email": email.strip()}
            )
        except Refused as refused:
            problem = "malformed" if refused.status == 422 else None
        except Unavailable:
            problem = "unavailable"
        except SessionExpired:
            problem = None
        return deps.renderer.render(
            request,
            "forgot_password.html",
            {"sent": problem is None, "problem": problem, "email": email},
            status_code={"malformed": 422, "unavailable": 503}.get(problem or "", 200),
        )

    return routes
