"""The other services' HTTP APIs, called with the signed-in person's token like any client.

A page never sees an httpx error: a refusal becomes one of the exceptions below, which the app
turns into a sign-in redirect (401), a not-found page (404 and another dealership's ids, which
the owners answer alike), a plain message (other 4xx) or the "could not reach" banner."""

import contextlib
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from web.settings import WebSettings

ServiceName = Literal["routing", "notifier", "search", "exporter", "ingest"]


class SessionExpired(Exception):
    """The token was refused: the person signs in again."""


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
    """One pooled HTTP client for every service, shared by all requests of the process."""

    def __init__(self, settings: WebSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.urls: dict[str, str] = {
            "routing": settings.routing_url,
            "notifier": settings.notifier_url,
            "search": settings.search_url,
            "exporter": settings.exporter_url,
            # Carrier setup: the webhook side of the credentials.
            "ingest": settings.ingest_url,
        }
        self.http = httpx.AsyncClient(
            timeout=settings.backend_timeout_seconds,
            transport=transport,
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
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
    ) -> Any:
        all_headers = {"accept": "application/json", **(headers or {})}
        if token:
            all_headers["authorization"] = f"Bearer {token}"
        try:
            response = await self.http.request(
                method, self.urls[service] + path, params=params, json=json, headers=all_headers
            )
        except httpx.HTTPError as exc:
            raise Unavailable(service) from exc
        return answer_of(service, response)

    async def close(self) -> None:
        await self.http.aclose()


def answer_of(service: str, response: httpx.Response) -> Any:
    status = response.status_code
    if status == 204:
        return None
    if status < 400:
        return response.json() if response.content else None
    if status == 401:
        raise SessionExpired()
    if status == 404:
        raise NotFound()
    if status >= 500:
        raise Unavailable(service)
    error = {}
    with contextlib.suppress(ValueError, AttributeError):
        error = response.json().get("error") or {}
    raise Refused(status, error.get("code", "refused"), error.get("message", ""), error.get("details"))


class UserApi:
    """The backend as one signed-in person: every call carries their token."""

    def __init__(self, backend: Backend, token: str) -> None:
        self.backend = backend
        self.token = token

    async def get(self, service: ServiceName, path: str, params: Any = None) -> Any:
        return await self.backend.call(service, "GET", path, token=self.token, params=params)

    async def post(self, service: ServiceName, path: str, json: Any = None, params: Any = None) -> Any:
        return await self.backend.call(service, "POST", path, token=self.token, json=json, params=params)

    async def patch(self, service: ServiceName, path: str, json: Any = None) -> Any:
        return await self.backend.call(service, "PATCH", path, token=self.token, json=json)

    async def put(self, service: ServiceName, path: str, json: Any = None) -> Any:
        return await self.backend.call(service, "PUT", path, token=self.token, json=json)

    async def delete(self, service: ServiceName, path: str) -> Any:
        return await self.backend.call(service, "DELETE", path, token=self.token)
