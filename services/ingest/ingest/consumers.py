"""ingest's Kafka consumers: routing's changes to dealership numbers, notifier's reports of
the texts it sent (so a text whose status callback never comes has its status fetched), and its
own `carrier.inbound.v1`, read back to count each dealership's texts in (usage), once per text."""

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ingest.settings import IngestSettings
from ingest.usage_repository import count_texts_in
from ingest.usecases.outbound_check import note_outbound_status
from ingest.usecases.phone_numbers import apply_number_change
from shared.contracts.carrier import CarrierInbound
from shared.contracts.messaging import OutboundStatusChanged
from shared.contracts.phone_numbers import PhoneNumberChanged
from shared.contracts.topics import CARRIER_INBOUND, PHONE_NUMBER_CHANGED, SMS_OUTBOUND_STATUS
from shared.kafka.consumer import subscribe, subscribe_batch
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

    async def on_text_in(event: CarrierInbound) -> None:
        await on_texts_in([event])

    async def on_texts_in(events: list[CarrierInbound]) -> None:
        # At the inbound rate: the waiting texts counted in one transaction (each once, by id).
        async with sessions.begin() as session:
            await count_texts_in(session, events)

    subscribe(infra.broker, infra.publisher, settings, PHONE_NUMBER_CHANGED, "ingest", on_number_changed)
    # Counting is read by operators, not awaited by anyone: texts are gathered for a second per
    # fetch, a transaction per second instead of one per few texts.
    subscribe_batch(
        infra.broker,
        infra.publisher,
        settings,
        CARRIER_INBOUND,
        "ingest",
        on_texts_in,
        on_text_in,
        gather_seconds=settings.usage_gather_seconds,
    )
    subscribe(infra.broker, infra.publisher, settings, SMS_OUTBOUND_STATUS, "ingest", on_outbound_status)
