"""The other services' HTTP APIs, called with the signed-in person's token like any client.

A page never sees a client error: a refusal becomes one of the exceptions below, which the app
turns into a sign-in redirect (401), a not-found page (404 and another dealership's ids, which
the owners answer alike), a plain message (other 4xx) or the "could not reach" banner.

Calls go through aiohttp: per call it costs web a third of httpx's CPU (0.55 against 1.4 ms for a
list page's 50 rows, bench/README.md, issue 13), and a page is mostly that call and its
rendering. httpx stays for the live relay's stream (httpx-sse) and for tests' in-memory fakes."""

import contextlib
import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp
import httpx
import orjson
import structlog
from cachetools import TTLCache
from yarl import URL

from web.settings import WebSettings

log = structlog.get_logger(__name__)

# Idle pooled connections are dropped after this, well before the services close them
# (`HttpProcessSettings.http_keep_alive_seconds`, 75 s): a POST sent on a connection the server
# is closing is not retried by aiohttp, and the page would say "could not be reached".
IDLE_CONNECTION_SECONDS = 30.0

ServiceName = Literal["routing", "notifier", "search", "exporter", "ingest"]


class SessionExpired(Exception):
    """The token was refused: the person signs in again. `reason` is `suspended` when the owner
    said their dealership is suspended (the sign-in page then says so plainly)."""

    def __init__(self, reason: str | None = None) -> None:
        super().__init__(reason or "session expired")
        self.reason = reason


class NotFound(Exception):
    pass


@dataclass
class Refused(Exception):
    """A 4xx with the owner's own words (`{"error": {"code", "message", "details"}}`)."""

    status: int
    code: str
    message: str
    details: Any = None


class Unavailable(Exception):
    """The service could not be reached or failed (5xx, timeout)."""

    def __init__(self, service: str) -> None:
        super().__init__(f"{service} is unavailable")
        self.service = service


class Backend:
    """One pooled HTTP client for every service, shared by all requests of the process.

    `transport` (tests): an httpx transport that answers every call instead of the network."""

    def __init__(self, settings: WebSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.urls: dict[str, str] = {
            "routing": settings.routing_url,
            "notifier": settings.notifier_url,
            "search": settings.search_url,
            "exporter": settings.exporter_url,
            # Carrier setup: the webhook side of the credentials.
            "ingest": settings.ingest_url,
        }
        # The live relay's streams (and every call, when a test gives its own transport).
        self.http = httpx.AsyncClient(
            timeout=settings.backend_timeout_seconds,
            transport=transport,
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        )
        self.in_memory = transport is not None
        self.timeout = settings.backend_timeout_seconds
        # Made on the first call: an aiohttp session belongs to the running event loop.
        self.session: aiohttp.ClientSession | None = None
        # Answers every page asks for again (who the person is, their dealership's settings, the
        # staff directory), kept per token for a few seconds: a page then costs routing one or
        # two calls instead of six. A refused token is still refused at once by those calls.
        self.recent: TTLCache[tuple[str, str, str], Any] = TTLCache(
            maxsize=10_000, ttl=settings.recent_answers_seconds
        )

    def as_user(self, token: str) -> "UserApi":
        return UserApi(self, token)

    async def call(
        self,
        service: ServiceName,
        method: str,
        path: str,
        *,
        token: str | None,
        params: Any = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        decode: bool = True,
    ) -> Any:
        """The answer decoded from JSON, or with `decode=False` its bytes as they came (refusals
        raise the same either way)."""
        all_headers = {"accept": "application/json", **(headers or {})}
        if token:
            all_headers["authorization"] = f"Bearer {token}"
        address = self.urls[service] + path
        if self.in_memory:
            try:
                response = await self.http.request(
                    method, address, params=params, json=json, headers=all_headers
                )
            except httpx.HTTPError as exc:
                raise Unavailable(service) from exc
            return answer_of(service, response.status_code, response.content, decode)
        body = None
        if json is not None:
            body = orjson.dumps(json)
            all_headers["content-type"] = "application/json"
        try:
            async with self._session().request(
                method, with_query(address, params), data=body, headers=all_headers, allow_redirects=False
            ) as response:
                status, content = response.status, await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("backend call failed", service=service, method=method, path=path, error=repr(exc))
            raise Unavailable(service) from exc
        return answer_of(service, status, content, decode)

    def _session(self) -> aiohttp.ClientSession:
        if self.session is None:
            self.session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=200, limit_per_host=0, keepalive_timeout=IDLE_CONNECTION_SECONDS
                ),
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                # Never carry a cookie from one person's answer to another's call.
                cookie_jar=aiohttp.DummyCookieJar(),
                raise_for_status=False,
            )
        return self.session

    async def close(self) -> None:
        await self.http.aclose()
        if self.session is not None:
            await self.session.close()


def with_query(address: str, params: Any) -> URL:
    """The address with `params` as httpx would write them (a dict or pairs; a list value repeats
    its key; True is `true`), already encoded so aiohttp sends it as is. Pairs are kept: a list
    asks for the same few addresses again and again (~10 µs each to write)."""
    if isinstance(params, list | tuple):
        try:
            return _url_of_pairs(address, tuple(params))
        except TypeError:  # an unhashable value (a list repeating its key)
            pass
    return _url_of(address, params)


def _url_of(address: str, params: Any) -> URL:
    if not params:
        return URL(address, encoded=True)
    return URL(f"{address}?{httpx.QueryParams(params)}", encoded=True)


@functools.lru_cache(maxsize=4096)
def _url_of_pairs(address: str, pairs: tuple[Any, ...]) -> URL:
    return _url_of(address, list(pairs))


def answer_of(service: str, status: int, content: bytes, decode: bool = True) -> Any:
    if status < 400 and not decode:
        return content
    if status == 204:
        return None
    if status < 400:
        # orjson: a list page's 50 rows decode in a third of the standard library's time.
        return orjson.loads(content) if content else None
    error = _error_of(content)
    if status == 401:
        raise SessionExpired("suspended" if error.get("code") == "dealership_suspended" else None)
    if status == 404:
        raise NotFound()
    if status >= 500:
        raise Unavailable(service)
    raise Refused(status, error.get("code", "refused"), error.get("message", ""), error.get("details"))


def _error_of(content: bytes) -> Mapping[str, Any]:
    """The owner's `{"error": {...}}`, or nothing when the answer is not that shape."""
    with contextlib.suppress(ValueError, AttributeError, TypeError):
        error = orjson.loads(content).get("error") or {}
        if isinstance(error, dict):
            return error
    return {}


# What `get_recent` keeps: a change under these paths makes the person's next page ask again.
RECENT_PATHS = ("/api/v1/me", "/api/v1/account", "/api/v1/users", "/api/v1/teams")


class UserApi:
    """The backend as one signed-in person: every call carries their token."""

    def __init__(self, backend: Backend, token: str) -> None:
        self.backend = backend
        self.token = token
        self.session_key = hashlib.sha256(token.encode()).hexdigest()

    async def get(self, service: ServiceName, path: str, params: Any = None) -> Any:
        return await self.backend.call(service, "GET", path, token=self.token, params=params)

    async def get_content(self, service: ServiceName, path: str, params: Any = None) -> bytes:
        """A GET's answer as its bytes (`rendering.LaterAnswer`: a page filled from the same bytes
        again is not decoded again)."""
        return await self.backend.call(service, "GET", path, token=self.token, params=params, decode=False)

    async def get_recent(self, service: ServiceName, path: str) -> Any:
        """The answer of a GET without parameters, as this person had it a few seconds ago at
        most (treat it as read-only: it is shared by the pages of those seconds)."""
        key = (self.session_key, service, path)
        answer = self.backend.recent.get(key)
        if answer is None:
            answer = await self.get(service, path)
            self.backend.recent[key] = answer
        return answer

    def forget_recent(self) -> None:
        """After a change made by this person, their next page asks again."""
        for key in [key for key in list(self.backend.recent.keys()) if key[0] == self.session_key]:
            self.backend.recent.pop(key, None)

    def _changing(self, path: str) -> None:
        if path.startswith(RECENT_PATHS):
            self.forget_recent()

    async def post(self, service: ServiceName, path: str, json: Any = None, params: Any = None) -> Any:
        self._changing(path)
        return await self.backend.call(service, "POST", path, token=self.token, json=json, params=params)

    async def patch(self, service: ServiceName, path: str, json: Any = None) -> Any:
        self._changing(path)
        return await self.backend.call(service, "PATCH", path, token=self.token, json=json)

    async def put(self, service: ServiceName, path: str, json: Any = None) -> Any:
        self._changing(path)
        return await self.backend.call(service, "PUT", path, token=self.token, json=json)

    async def delete(self, service: ServiceName, path: str) -> Any:
        self._changing(path)
        return await self.backend.call(service, "DELETE", path, token=self.token)
