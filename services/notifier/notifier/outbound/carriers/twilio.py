"""Twilio's Messages API: POST /2010-04-01/Accounts/{AccountSid}/Messages.json, form encoded,
HTTP basic auth with the account's SID and auth token."""

from collections.abc import Sequence

import httpx
from pydantic import SecretStr

from notifier.outbound.carriers.base import CarrierError
from notifier.outbound.carriers.http_errors import json_or_empty, rejected, transport_error


class TwilioAdapter:
    carrier = "twilio"

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        account_sid: str,
        auth_token: SecretStr,
        status_callback_url: str | None,
    ) -> None:
        self._client = client
        self._url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self._auth = (account_sid, auth_token)
        self._status_callback_url = status_callback_url

    def __repr__(self) -> str:  # never show the token
        return f"TwilioAdapter({self._url})"

    async def send(
        self, from_number: str, to_number: str, body: str, media_urls: Sequence[str], idempotency_key: str
    ) -> str:
        form: dict[str, str | list[str]] = {"To": to_number, "From": from_number}
        if body:
            form["Body"] = body
        if media_urls:
            form["MediaUrl"] = list(media_urls)  # repeated, once per attachment
        if self._status_callback_url:
            form["StatusCallback"] = self._status_callback_url
        sid, token = self._auth
        try:
            response = await self._client.post(
                self._url,
                data=form,
                auth=(sid, token.get_secret_value()),
                # Twilio's REST API does not dedupe on it; the simulator and proxies that do, do.
                headers={"Idempotency-Key": idempotency_key},
            )
        except httpx.HTTPError as exc:
            raise transport_error(self.carrier, exc) from exc
        answer = json_or_empty(response)
        if response.status_code in (200, 201) and isinstance(answer.get("sid"), str):
            return answer["sid"]
        if response.is_success:
            raise CarrierError("twilio answered without a message sid", category="unknown", retryable=False)
        code = answer.get("code")
        raise rejected(
            self.carrier, response, str(code) if code is not None else None, str(answer.get("message") or "")
        )
