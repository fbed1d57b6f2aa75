"""ingest's Kafka consumers: routing's changes to dealership numbers, and notifier's reports of
the texts it sent (so a text whose status callback never comes has its status fetched). Texts in
are counted for billing where they are claimed, not read back from `carrier.inbound.v1`
(usage_repository.py)."""

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ingest.settings import IngestSettings
from ingest.usecases.outbound_check import note_outbound_status
from ingest.usecases.phone_numbers import apply_number_change
from shared.contracts.messaging import OutboundStatusChanged
from shared.contracts.phone_numbers import PhoneNumberChanged
from shared.contracts.topics import PHONE_NUMBER_CHANGED, SMS_OUTBOUND_STATUS
from shared.kafka.consumer import subscribe
from shared.service import Infrastructure


def register_consumers(
    infra: Infrastructure, settings: IngestSettings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async def on_number_changed(event: PhoneNumberChanged) -> None:
        async with sessions.begin() as session:
            await apply_number_change(session, event)

    async def on_outbound_status(event: OutboundStatusChanged) -> None:
        async with sessions.begin() as session:
            await note_outbound_status(session, event, settings.outbound_status_after_seconds)

    subscribe(infra.broker, infra.publisher, settings, PHONE_NUMBER_CHANGED, "ingest", on_number_changed)
    subscribe(infra.broker, infra.publisher, settings, SMS_OUTBOUND_STATUS, "ingest", on_outbound_status)
