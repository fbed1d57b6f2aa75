"""Sign-in and sign-out. Routing checks the password and issues the token; the page keeps it in
the HttpOnly session cookie and sends the person back to the page they asked for."""

import contextlib
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from web.backend import Refused, SessionExpired, Unavailable
from web.deps import WebDeps
from web.i18n import SUPPORTED
from web.session import ended_because, safe_next


def router(deps: WebDeps) -> APIRouter:
    routes = APIRouter()

    @routes.get("/signin")
    async def sign_in_form(request: Request, next: str | None = None, reason: str | None = None) -> Response:
        """`reason=suspended`: the session ended because the dealership was suspended."""
        problem = "suspended" if "suspended" in (reason, ended_because(request)) else None
        return deps.renderer.render(request, "signin.html", {"next": safe_next(next), "problem": problem})

    @routes.post("/signin")
    async def sign_in(
        request: Request,
        email: Annotated[str, Form(max_length=320)] = "",
        password: Annotated[str, Form(max_length=1000)] = "",
        next: Annotated[str, Form(max_length=2000)] = "",
    ) -> Response:
        problem = None
        try:
            answer = await deps.backend.call(
                "routing",
                "POST",
                "/api/v1/auth/login",
                token=None,
                json={"email": email, "password": password},
            )
        except SessionExpired:
            problem = "invalid"  # routing answers a wrong e-mail or password with 401
        except Refused as refused:
            if refused.code == "dealership_suspended":
                problem = "suspended"
            elif refused.status == 429:
                problem = "throttled"  # routing's sign-in throttling: too many failed tries
            else:
                problem = "invalid" if refused.status == 422 else "refused"
        except Unavailable:
            problem = "unavailable"
        if problem:
            return deps.renderer.render(
                request,
                "signin.html",
                {"next": safe_next(next), "problem": problem, "email": email},
                status_code={"invalid": 401, "suspended": 403, "throttled": 429}.get(problem, 503),
            )
        response = RedirectResponse(safe_next(next), status_code=303)
        deps.sessions.start(response, answer["access_token"])
        return response

    @routes.post("/signout")
    async def sign_out() -> Response:
        response = RedirectResponse("/signin", status_code=303)
        deps.sessions.end(response)
        return response

    @routes.get("/session")
    async def session_check(request: Request) -> Response:
        """Asked by the page when its live stream fails: 401 sends it to sign-in."""
        signed_in = await deps.sessions.signed_in(request)
        return Response(status_code=204, headers={"x-person": signed_in.person.id})

    @routes.post("/language")
    async def choose_language(
        request: Request,
        locale: Annotated[str, Form(max_length=10)] = "en",
        next: Annotated[str, Form(max_length=2000)] = "",
    ) -> Response:
        """Signed in, the choice is the person's profile (routing's PATCH /api/v1/me), so it
        follows them to any browser; the cookie keeps the sign-in page in the same language."""
        response = RedirectResponse(safe_next(next), status_code=303)
        if locale in SUPPORTED:
            token = request.cookies.get(deps.settings.session_cookie_name)
            if token:
                with contextlib.suppress(SessionExpired):
                    await deps.backend.as_user(token).patch(
                        "routing", "/api/v1/me", json={"language": locale}
                    )
            remember_language(response, locale)
        return response

    return routes


def remember_language(response: Response, locale: str) -> None:
    response.set_cookie("sb_lang", locale, max_age=365 * 86400, samesite="lax", httponly=True)
