"""Telnyx's v2 API, bearer API key. Telnyx has no "list messages" endpoint; what it keeps of
every message is a message detail record (MDR), searchable:
- GET /v2/detail_records?filter[record_type]=messaging&filter[direction]=inbound&filter[cld]=<our
  number>&filter[created_at][gte]=<ISO>&sort=created_at&page[number]=&page[size]= → `data` (each
  record's `uuid` is the message id, `cli` the sender, `cld` our number), `meta.total_pages`;
- an MDR has no text, so each listed message is read with GET /v2/messages/{id} (kept 10 days),
  which is also where a text we sent shows its `to[0].status` and `errors`."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx

from ingest.carriers.errors import get, json_of, raise_for_answer
from ingest.domain.catch_up import FetchedStatus, ListedText

CARRIER = "telnyx"
# Messages read at once while listing: a burst of reads, not one per round trip.
_PARALLEL_READS = 8


class TelnyxApi:
    def __init__(self, client: httpx.AsyncClient, base_url: str, api_key: str) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}"}

    def __repr__(self) -> str:  # never the key
        return f"TelnyxApi({self._base})"

    async def _get(self, path: str, params: dict | None = None) -> httpx.Response:
        response = await get(
            self._client, CARRIER, f"{self._base}{path}", params=params, headers=self._headers
        )
        if response.status_code != 404:
            raise_for_answer(CARRIER, response)
        return response

    async def inbound_since(
        self, to_number: str, since: datetime, page_size: int
    ) -> AsyncIterator[ListedText]:
        page_number, total_pages = 1, 1
        reads = asyncio.Semaphore(_PARALLEL_READS)
        while page_number <= total_pages:
            answer = json_of(
                CARRIER,
                await self._get(
                    "/v2/detail_records",
                    {
                        "filter[record_type]": "messaging",
                        "filter[direction]": "inbound",
                        "filter[cld]": to_number,
                        "filter[created_at][gte]": since.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                        "sort": "created_at",
                        "page[number]": page_number,
                        "page[size]": page_size,
                    },
                ),
            )
            records = [r for r in answer.get("data") or [] if isinstance(r, dict) and r.get("uuid")]

            async def read(record: dict) -> ListedText | None:
                async with reads:
                    return await self._message(record)

            for listed in await asyncio.gather(*(read(record) for record in records)):
                if listed is not None:
                    yield listed
            meta = answer.get("meta") or {}
            total_pages = int(meta.get("total_pages") or 0)
            page_number += 1

    async def _message(self, record: dict) -> ListedText | None:
        response = await self._get(f"/v2/messages/{record['uuid']}")
        if response.status_code == 404:
            return None  # older than Telnyx keeps texts: nothing more to read
        data = json_of(CARRIER, response).get("data") or {}
        recipients = data.get("to") or [{}]
        sender = data.get("from") or {}
        return ListedText(
            carrier=CARRIER,
            message_id=str(data.get("id") or record["uuid"]),
            from_number=str(sender.get("phone_number") or record.get("cli") or ""),
            to_number=str(recipients[0].get("phone_number") or record.get("cld") or ""),
            body=str(data.get("text") or ""),
            sent_at=_when(data.get("received_at")) or _when(record.get("created_at")) or datetime.now(UTC),
            media=[
                (str(item.get("url")), item.get("content_type"))
                for item in data.get("media") or []
                if isinstance(item, dict) and item.get("url")
            ],
            raw={
                "record_type": "message",
                "id": str(data.get("id") or ""),
                "received_at": str(data.get("received_at")),
            },
        )

    async def status_of(self, message_id: str) -> FetchedStatus | None:
        response = await self._get(f"/v2/messages/{message_id}")
        if response.status_code == 404:
            return None
        data = json_of(CARRIER, response).get("data") or {}
        recipient = (data.get("to") or [{}])[0]
        errors = [e for e in data.get("errors") or [] if isinstance(e, dict)]
        error = errors[0] if errors else {}
        message = " — ".join(str(error[k]) for k in ("title", "detail") if error.get(k)) or None
        return FetchedStatus(
            carrier=CARRIER,
            message_id=message_id,
            status=str(recipient.get("status") or "").strip().lower(),
            error_code=str(error["code"]) if error.get("code") is not None else None,
            error_message=message,
            raw={"status": str(recipient.get("status") or ""), "completed_at": str(data.get("completed_at"))},
        )


def _when(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
