"""Reads a conversation from `routing`'s HTTP API with a short-lived service token scoped to the
job's account; exporter keeps no copy of routing's tables."""

from collections.abc import AsyncIterator
from datetime import timedelta
from uuid import UUID

import httpx

from shared.http.auth import issue_token
from shared.settings import ServiceSettings

SERVICE_TOKEN_TTL = timedelta(minutes=5)


class RoutingUnavailable(Exception):
    """routing did not answer usefully (down, slow, 5xx): worth another attempt later."""


class ConversationNotFound(Exception):
    """routing says the conversation is not one of the account's: no attempt will change that."""


class RoutingClient:
    def __init__(self, http: httpx.AsyncClient, settings: ServiceSettings) -> None:
        self._http = http
        self._settings = settings

    def _headers(self, account_id: UUID) -> dict[str, str]:
        token = issue_token(self._settings, "exporter", account_id, "service", ttl=SERVICE_TOKEN_TTL)
        return {"authorization": f"Bearer {token}"}

    async def _get(self, account_id: UUID, path: str, params: dict | None = None) -> httpx.Response:
        try:
            response = await self._http.get(path, params=params, headers=self._headers(account_id))
        except httpx.HTTPError as exc:
            raise RoutingUnavailable(f"routing did not answer ({type(exc).__name__})") from exc
        if response.status_code >= 500:
            raise RoutingUnavailable(f"routing answered {response.status_code}")
        return response

    async def conversation(self, account_id: UUID, conversation_id: UUID) -> dict:
        response = await self._get(account_id, f"/api/v1/conversations/{conversation_id}")
        return self._json_or_raise(response)

    async def account_settings(self, account_id: UUID) -> dict | None:
        """The account's name and time zone; None when routing will not tell a service (the
        transcript then goes without the name and uses the requester's zone)."""
        response = await self._get(account_id, "/api/v1/account/settings")
        return response.json() if response.status_code == 200 else None

    async def timeline(
        self, account_id: UUID, conversation_id: UUID, page_size: int
    ) -> AsyncIterator[list[dict]]:
        """The conversation's timeline, oldest first, one page at a time."""
        cursor: str | None = None
        path = f"/api/v1/conversations/{conversation_id}/timeline"
        while True:
            params = {"limit": page_size, **({"cursor": cursor} if cursor else {})}
            page = self._json_or_raise(await self._get(account_id, path, params))
            yield page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return

    @staticmethod
    def _json_or_raise(response: httpx.Response) -> dict:
        if response.status_code == 404:
            raise ConversationNotFound("the conversation was not found")
        if response.status_code != 200:
            # 401/403/422 are our mistakes (secret or contract mismatch), not the requester's.
            raise RoutingUnavailable(f"routing refused the request ({response.status_code})")
        return response.json()
