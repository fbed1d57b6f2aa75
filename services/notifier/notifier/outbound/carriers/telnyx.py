"""Telnyx's messages API: POST /v2/messages, JSON, bearer API key."""

from collections.abc import Sequence

import httpx
from pydantic import SecretStr

from notifier.outbound.carriers.base import CarrierError
from notifier.outbound.carriers.http_errors import json_or_empty, rejected, transport_error


class TelnyxAdapter:
    carrier = "telnyx"
    # Telnyx replays the first successful answer to a request retried with the same
    # Idempotency-Key (and the same body) for 24 h, so a retry after a lost answer sends nothing
    # new: https://developers.telnyx.com/docs/development/api-fundamentals/idempotency
    honours_idempotency_key = True

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        api_key: SecretStr,
        webhook_url: str | None,
        messaging_profile_id: str | None = None,
    ) -> None:
        self._client = client
        self._url = f"{base_url.rstrip('/')}/v2/messages"
        self._api_key = api_key
        self._webhook_url = webhook_url
        self._messaging_profile_id = messaging_profile_id

    def __repr__(self) -> str:  # never show the key
        return f"TelnyxAdapter({self._url})"

    async def send(
        self, from_number: str, to_number: str, body: str, media_urls: Sequence[str], idempotency_key: str
    ) -> str:
        payload: dict = {"from": from_number, "to": to_number, "text": body}
        if media_urls:
            payload["media_urls"] = list(media_urls)
        if self._webhook_url:
            payload["webhook_url"] = self._webhook_url
            payload["use_profile_webhooks"] = False
        if self._messaging_profile_id:
            payload["messaging_profile_id"] = self._messaging_profile_id
        try:
            response = await self._client.post(
                self._url,
                json=payload,
                headers={
                    "Authorization": f"Bearer {self._api_key.get_secret_value()}",
                    "Idempotency-Key": idempotency_key,
                },
            )
        except httpx.HTTPError as exc:
            raise transport_error(self.carrier, exc) from exc
        answer = json_or_empty(response)
        data = answer.get("data")
        if response.is_success and isinstance(data, dict) and isinstance(data.get("id"), str):
            return data["id"]
        if response.is_success:
            raise CarrierError("telnyx answered without a message id", category="unknown", retryable=False)
        errors = answer.get("errors")
        first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
        code = first.get("code")
        message = str(first.get("detail") or first.get("title") or "")
        raise rejected(self.carrier, response, str(code) if code is not None else None, message)
