"""The API client for a dealership's carrier, built from the credentials it gave ingest: the
Twilio AccountSid and auth token (which also verify its webhooks), the Telnyx API key (set beside
the public key)."""

from typing import Protocol
from uuid import UUID

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from ingest import catch_up_repository as repo
from ingest.carriers.telnyx_api import TelnyxApi
from ingest.carriers.twilio_api import TwilioApi
from ingest.domain.catch_up import FetchedStatus, ListedText


class CarrierApi(Protocol):
    def inbound_since(self, to_number: str, since, page_size: int): ...  # AsyncIterator[ListedText]

    async def status_of(self, message_id: str) -> FetchedStatus | None: ...


class CarrierApis:
    def __init__(self, client: httpx.AsyncClient, twilio_base_url: str, telnyx_base_url: str) -> None:
        self._client = client
        self._twilio = twilio_base_url
        self._telnyx = telnyx_base_url

    async def for_account(self, session: AsyncSession, account_id: UUID, carrier: str) -> CarrierApi | None:
        """None when the dealership gave no credentials ingest could list with."""
        if carrier == "twilio":
            found = await repo.twilio_credentials(session, account_id)
            return TwilioApi(self._client, self._twilio, *found) if found else None
        if carrier == "telnyx":
            key = await repo.telnyx_api_key(session, account_id)
            return TelnyxApi(self._client, self._telnyx, key) if key else None
        return None


__all__ = ["CarrierApi", "CarrierApis", "ListedText"]
