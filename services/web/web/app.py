"""Wires the web inbox: settings, the backend client, sessions, templates and one router per
screen. The only place that builds dependencies."""

import contextlib
import logging
from collections.abc import AsyncIterator

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry

from shared.http.observability import RequestMetrics, observability_router
from shared.telemetry import setup_logging
from web import i18n
from web.admin import AdminOnly
from web.backend import Backend, NotFound, Refused, SessionExpired, Unavailable
from web.deps import WebDeps
from web.pages import (
    account_access,
    appointments,
    carrier_setup,
    company_settings,
    conversation,
    conversations,
    customer,
    dealership_switch,
    dms_integrations,
    live,
    notifications,
    profile,
    saved_replies,
    search,
    signin,
    sources,
    team,
)
from web.rendering import Renderer, build_environment, is_htmx
from web.security import SecurityHeaders, with_csrf
from web.session import Sessions, ended_because, page_address, sign_in_address
from web.settings import WebSettings

log = structlog.get_logger(__name__)
STATIC = i18n.CATALOGUES.parent / "static"


def create_app(settings: WebSettings, backend: Backend | None = None):
    setup_logging(settings)
    # Each backend call would be an INFO line of its own; the request metrics already count them.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    backend = backend or Backend(settings)
    renderer = Renderer(build_environment(), i18n.load_catalogues())
    deps = WebDeps(settings, backend, Sessions(settings, backend), renderer)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        log.info("service started", port=settings.http_port)
        try:
            yield
        finally:
            await backend.close()

    app = FastAPI(
        title="Switchboard web inbox",
        description="The pages dealership staff use; it calls the other services' APIs.",
        version="1.0.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    registry = CollectorRegistry()
    app.add_middleware(RequestMetrics, registry=registry)

    # Ready means this process serves: a page shows a backend outage itself, in plain words,
    # rather than the whole inbox disappearing behind the load balancer.
    # The Conversations list first: the screen asked most (a live list refreshes a few times a
    # second), and FastAPI tries the routers in order, twice over (~10 µs a router passed).
    app.include_router(conversations.router(deps))
    app.include_router(observability_router(settings.service_name, registry, {}))
    install_error_pages(app, deps)

    for screen in (signin, live, search, notifications, conversation, appointments, sources):
        app.include_router(screen.router(deps))
    for screen in (customer, saved_replies, profile, account_access, dealership_switch):
        app.include_router(screen.router(deps))
    for screen in (company_settings, team, carrier_setup, dms_integrations):  # the admin's settings
        app.include_router(screen.router(deps))

    app.mount("/static/app", StaticFiles(directory=STATIC), name="static")
    vendor = settings.node_modules_dir
    app.mount("/static/vendor/htmx", StaticFiles(directory=vendor / "htmx.org/dist", check_dir=False))
    app.mount(
        "/static/vendor/htmx-ext-sse", StaticFiles(directory=vendor / "htmx-ext-sse/dist", check_dir=False)
    )

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/conversations", status_code=303)

    protected = with_csrf(app, settings.csrf_secret.get_secret_value(), settings.cookie_secure)
    return SecurityHeaders(protected, https_only=settings.cookie_secure)


def install_error_pages(app: FastAPI, deps: WebDeps) -> None:
    """A refusal from a backend becomes what a person can act on, never a stack trace."""

    @app.exception_handler(SessionExpired)
    async def _expired(request: Request, exc: SessionExpired) -> Response:
        reason = exc.reason or ended_because(request)
        target = sign_in_address(page_address(request), reason)
        if is_htmx(request):
            response: Response = PlainTextResponse("session expired", status_code=401)
            response.headers["HX-Redirect"] = target
            response.headers["X-Sign-In"] = target
        elif "text/html" not in request.headers.get("accept", ""):
            # The live stream and the page's session check: the page goes to sign-in itself
            # (static/app.js), where this header says (a suspended dealership's message).
            response = PlainTextResponse("session expired", status_code=401)
            response.headers["X-Sign-In"] = target
        else:
            response = RedirectResponse(target, status_code=303)
        deps.sessions.end(response, reason)
        return response

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, _exc: NotFound) -> Response:
        return error_page(request, deps, 404, "not_found")

    @app.exception_handler(Unavailable)
    async def _unavailable(request: Request, exc: Unavailable) -> Response:
        log.warning("backend unavailable", service=exc.service, path=request.url.path)
        return error_page(request, deps, 503, "unavailable")

    @app.exception_handler(Refused)
    async def _refused(request: Request, exc: Refused) -> Response:
        return error_page(request, deps, exc.status, "refused", exc.message)

    @app.exception_handler(AdminOnly)
    async def _admin_only(request: Request, _exc: AdminOnly) -> Response:
        return error_page(request, deps, 403, "admin_only")


def error_page(request: Request, deps: WebDeps, status: int, kind: str, detail: str = "") -> Response:
    """htmx does not swap error answers: app.js shows their text in the banner; a whole page
    gets the error screen."""
    template = "partials/error.html" if is_htmx(request) else "error.html"
    return deps.renderer.render(
        request, template, {"status": status, "kind": kind, "detail": detail}, status_code=status
    )
