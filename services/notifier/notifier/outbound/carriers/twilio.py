"""Twilio's Messages API: POST /2010-04-01/Accounts/{AccountSid}/Messages.json, form encoded,
HTTP basic auth with the account's SID and auth token. Twilio ignores Idempotency-Key, so after
an answer that never came the sender asks GET …/Messages.json what Twilio accepted."""

from collections.abc import Sequence
from datetime import datetime
from email.utils import parsedate_to_datetime

import httpx
from pydantic import SecretStr

from notifier.outbound.carriers.base import CarrierError
from notifier.outbound.carriers.http_errors import json_or_empty, rejected, transport_error

# The newest messages between two numbers are enough: we look for one sent seconds ago.
_LOOKUP_PAGE_SIZE = 50


class TwilioAdapter:
    carrier = "twilio"
    honours_idempotency_key = False

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
                # Twilio's REST API does not dedupe on it (see accepted_since); proxies that do, do.
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

    async def accepted_since(self, from_number: str, to_number: str, body: str, since: datetime) -> list[str]:
        """Twilio lists messages newest first. Filtered by To and From only: DateSent is empty
        until the text leaves Twilio's queue, and a text sent seconds ago may still be queued, so
        the time window is checked here on date_created."""
        sid, token = self._auth
        try:
            response = await self._client.get(
                self._url,
                params={"To": to_number, "From": from_number, "PageSize": _LOOKUP_PAGE_SIZE},
                auth=(sid, token.get_secret_value()),
            )
        except httpx.HTTPError as exc:
            raise transport_error(self.carrier, exc) from exc
        answer = json_or_empty(response)
        messages = answer.get("messages")
        if response.is_success and not isinstance(messages, list):
            raise CarrierError("twilio listed messages without a list", category="unknown", retryable=False)
        if not response.is_success or not isinstance(messages, list):
            code = answer.get("code")
            raise rejected(
                self.carrier,
                response,
                str(code) if code is not None else None,
                str(answer.get("message") or ""),
            )
        found = [
            message["sid"]
            for message in reversed(messages)
            if isinstance(message, dict)
            and isinstance(message.get("sid"), str)
            and message.get("to") == to_number
            and message.get("from") == from_number
            and (message.get("body") or "") == body
            and str(message.get("direction") or "").startswith("outbound")
            and _created_at(message) is not None
            and _created_at(message) >= since
        ]
        return found


def _created_at(message: dict) -> datetime | None:
    try:
        return parsedate_to_datetime(str(message.get("date_created")))
    except (TypeError, ValueError):
        return None
