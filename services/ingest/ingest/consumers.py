"""ingest's one Kafka consumer: routing's changes to dealership numbers."""

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ingest.settings import IngestSettings
from ingest.usecases.phone_numbers import apply_number_change
from shared.contracts.phone_numbers import PhoneNumberChanged
from shared.contracts.topics import PHONE_NUMBER_CHANGED
from shared.kafka.consumer import subscribe
from shared.service import Infrastructure


def register_consumers(
    infra: Infrastructure, settings: IngestSettings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async def on_number_changed(event: PhoneNumberChanged) -> None:
        async with sessions.begin() as session:
            await apply_number_change(session, event)

    subscribe(infra.broker, infra.publisher, settings, PHONE_NUMBER_CHANGED, "ingest", on_number_changed)
