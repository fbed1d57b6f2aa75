"""Staff ask for an export: the job is written first, then its event published (see events.py).
Kafka being down does not lose the request: the job is stored and the relay publishes it."""

from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exporter import repository
from exporter.domain.jobs import ExportJob
from exporter.usecases.events import JobEvents


async def request_export(
    sessions: async_sessionmaker[AsyncSession],
    events: JobEvents,
    *,
    account_id: UUID,
    user_id: UUID,
    conversation_id: UUID,
    since: datetime | None,
    until: datetime | None,
    time_zone: str | None,
) -> ExportJob:
    """The new job, or the pending one this requester already has for the same range."""
    async with sessions.begin() as session:
        job, created = await repository.create_or_find_pending(
            session,
            account_id=account_id,
            requested_by=user_id,
            conversation_id=conversation_id,
            since=since,
            until=until,
            time_zone=time_zone,
        )
    if created:
        await events.publish_requested(job)
    return job
