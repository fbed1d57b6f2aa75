"""Twilio's Messages API (2010-04-01), HTTP basic auth with the AccountSid and auth token:
- GET /Accounts/{sid}/Messages.json?To=&DateSent>=&PageSize= lists newest first, paged by
  `next_page_uri` (relative to the API's host);
- an MMS's media are GET …/Messages/{MessageSid}/Media.json (each item's `uri` without `.json`
  is the file);
- GET …/Messages/{MessageSid}.json is one message with its `status`, `error_code`, `error_message`."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from ingest.carriers.errors import get, json_of, raise_for_answer
from ingest.domain.catch_up import FetchedStatus, ListedText

CARRIER = "twilio"


class TwilioApi:
    def __init__(self, client: httpx.AsyncClient, base_url: str, account_sid: str, auth_token: str) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self._sid = account_sid
        self._auth = (account_sid, auth_token)

    def __repr__(self) -> str:  # never the token
        return f"TwilioApi({self._base}, {self._sid})"

    async def _get(self, url: str, params: dict | None = None) -> dict:
        response = await get(self._client, CARRIER, url, params=params, auth=self._auth)
        raise_for_answer(CARRIER, response)
        return json_of(CARRIER, response)

    async def inbound_since(
        self, to_number: str, since: datetime, page_size: int
    ) -> AsyncIterator[ListedText]:
        """Texts customers sent to `to_number` from `since` on. The filter is on DateSent, which
        Twilio sets when an inbound text arrives; it accepts a full UTC date-time."""
        url = f"{self._base}/2010-04-01/Accounts/{self._sid}/Messages.json"
        params: dict | None = {
            "To": to_number,
            "DateSent>": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "PageSize": page_size,
        }
        while url:
            page = await self._get(url, params)
            for message in page.get("messages") or []:
                if isinstance(message, dict) and str(message.get("direction")) == "inbound":
                    yield await self._listed(message)
            next_uri = page.get("next_page_uri")
            url, params = (f"{self._base}{next_uri}", None) if next_uri else ("", None)

    async def _listed(self, message: dict) -> ListedText:
        sid = str(message.get("sid") or "")
        media: list[tuple[str, str | None]] = []
        if _int(message.get("num_media")) > 0:
            listing = await self._get(
                f"{self._base}/2010-04-01/Accounts/{self._sid}/Messages/{sid}/Media.json"
            )
            for item in listing.get("media_list") or []:
                uri = str(item.get("uri") or "").removesuffix(".json")
                if uri:
                    media.append((f"{self._base}{uri}", item.get("content_type")))
        return ListedText(
            carrier=CARRIER,
            message_id=sid,
            from_number=str(message.get("from") or ""),
            to_number=str(message.get("to") or ""),
            body=str(message.get("body") or ""),
            sent_at=_when(message.get("date_sent"))
            or _when(message.get("date_created"))
            or datetime.now(UTC),
            media=media,
            raw={
                k: str(v) for k, v in message.items() if isinstance(v, str | int) and not isinstance(v, bool)
            },
        )

    async def status_of(self, message_sid: str) -> FetchedStatus | None:
        """None when Twilio does not know the message (deleted, or another account's)."""
        url = f"{self._base}/2010-04-01/Accounts/{self._sid}/Messages/{message_sid}.json"
        response = await get(self._client, CARRIER, url, auth=self._auth)
        if response.status_code == 404:
            return None
        raise_for_answer(CARRIER, response)
        message = json_of(CARRIER, response)
        code = message.get("error_code")
        return FetchedStatus(
            carrier=CARRIER,
            message_id=message_sid,
            status=str(message.get("status") or "").strip().lower(),
            error_code=str(code) if code not in (None, "") else None,
            error_message=str(message.get("error_message") or "") or None,
            raw={
                "status": str(message.get("status") or ""),
                "date_updated": str(message.get("date_updated")),
            },
        )


def _when(value: object) -> datetime | None:
    """Twilio's dates are RFC 2822 (`Mon, 16 Aug 2010 03:45:01 +0000`)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0
