"""Security headers on every answer of the API services (the web inbox has its own, with its
Content-Security-Policy, in services/web/web/security.py).

Pure ASGI and cheap: the headers are built once, and each answer only has them appended (a
header the route set itself, such as a download's Cache-Control, is kept). Streams (SSE) pass
through untouched."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# APIs answer JSON (and a PDF download): nothing to sniff, nothing to frame, no referrer to
# leak (a download link carries its token in the URL). `frame-ancestors` alone does not limit
# what /docs loads.
API_SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
# Answers carry conversations and tokens: no shared or browser cache keeps them.
NO_STORE = (b"cache-control", b"no-store")
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


class ApiSecurityHeaders:
    def __init__(self, app: ASGIApp, strict_transport_security: bool = False) -> None:
        self.app = app
        headers = [*API_SECURITY_HEADERS, NO_STORE]
        if strict_transport_security:
            headers.append(HSTS)
        self.headers = tuple(headers)
        self.names = frozenset(name for name, _ in headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = self.headers
        names = self.names

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = message.get("headers") or []
                if any(name in names for name, _ in present):
                    kept = {name for name, _ in present}
                    message["headers"] = [*present, *(h for h in headers if h[0] not in kept)]
                else:
                    message["headers"] = [*present, *headers]
            await send(message)

        await self.app(scope, receive, with_headers)
