"""Security headers on every answer, and the CSRF double-submit check (asgi-csrf) on every
state-changing request: forms carry the token as a field, htmx sends it as a header."""

from asgi_csrf import Errors, asgi_csrf
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# No inline script or style anywhere: htmx is told not to inject its indicator styles and not
# to evaluate code (see base.html's htmx-config).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class SecurityHeaders:
    """Pure ASGI, so the live stream passes through untouched."""

    def __init__(self, app: ASGIApp, https_only: bool) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"same-origin"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
        ]
        if https_only:
            self.headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in self.headers if name not in present]
                if scope["path"].startswith("/static/"):
                    extra.append((b"cache-control", b"public, max-age=3600"))
                else:
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


async def _refuse(scope: Scope, send: Send, error: Errors) -> None:
    body = (
        "This form has expired or did not come from Switchboard. Reload the page and try again. / "
        "Ce formulaire a expiré ou ne vient pas de Switchboard. Rechargez la page et réessayez."
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"x-csrf-refused", b"1")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def with_csrf(app: ASGIApp, secret: str, secure_cookie: bool) -> ASGIApp:
    return asgi_csrf(
        app,
        signing_secret=secret,
        # Sign-in has no session cookie yet; it is checked all the same (login CSRF).
        always_protect={"/signin"},
        always_set_cookie=True,
        cookie_secure=secure_cookie,
        cookie_samesite="Strict",
        send_csrf_failed=lambda scope, send, error: _refuse(scope, send, error),
    )
