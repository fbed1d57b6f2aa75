"""The two events of a job and their publication. The job row is their outbox: each is
published right after the row that causes it commits, and marked when Kafka acknowledged it;
`ExportOutboxRelay` publishes what a crash or a Kafka outage left unmarked. Event ids are
derived from the job, so a republished event is the same event to its consumers."""

from collections.abc import Callable
from datetime import UTC, datetime
from uuid import NAMESPACE_URL, UUID, uuid5

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exporter import repository
from exporter.domain.jobs import ExportJob
from exporter.links import DownloadLinks
from shared.contracts.base import Event
from shared.contracts.export import ExportCompleted, ExportRequested
from shared.contracts.topics import EXPORT_COMPLETED, EXPORT_REQUESTED, TopicSpec
from shared.kafka.broker import EventPublisher, PublishFailed

log = structlog.get_logger(__name__)


def requested_event(job: ExportJob) -> ExportRequested:
    return ExportRequested(
        event_id=job.id,
        occurred_at=job.created_at,
        account_id=job.account_id,
        job_id=job.id,
        conversation_id=job.conversation_id,
        requested_by_user_id=job.requested_by,
        since=job.since,
        until=job.until,
    )


def download_url(public_url: str, links: DownloadLinks, job: ExportJob) -> str | None:
    if job.status != "done" or job.expires_at is None:
        return None
    return f"{public_url}/api/v1/exports/{job.id}/download?token={links.sign(job.id, job.expires_at)}"


def completed_event(job: ExportJob, url: str | None) -> ExportCompleted:
    return ExportCompleted(
        event_id=uuid5(NAMESPACE_URL, f"switchboard:export-completed:{job.id}"),
        occurred_at=job.finished_at or datetime.now(UTC),
        account_id=job.account_id,
        job_id=job.id,
        conversation_id=job.conversation_id,
        requested_by_user_id=job.requested_by,
        download_url=url,
        expires_at=job.expires_at if url else None,
        failed_reason=job.failed_reason,
    )


class JobEvents:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        publisher: EventPublisher,
        links: DownloadLinks,
        public_url: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = sessions
        self._publisher = publisher
        self._links = links
        self._public_url = public_url
        self._clock = clock

    def download_url(self, job: ExportJob) -> str | None:
        return download_url(self._public_url, self._links, job)

    def completed(self, job: ExportJob) -> ExportCompleted:
        return completed_event(job, self.download_url(job))

    async def publish_requested(self, job: ExportJob) -> bool:
        """True when Kafka acknowledged; False leaves it to the relay. Called outside any
        transaction: the mark is a short transaction of its own, after Kafka answered."""
        event = requested_event(job)
        return await self._publish(job.id, EXPORT_REQUESTED, event, "requested_published_at")

    async def publish_completed(self, job: ExportJob) -> bool:
        event = self.completed(job)
        return await self._publish(job.id, EXPORT_COMPLETED, event, "completed_published_at")

    async def _publish(self, job_id: UUID, spec: TopicSpec, event: Event, column: str) -> bool:
        try:
            await self._publisher.publish(spec, event, key=str(job_id))
        except PublishFailed as exc:
            log.warning(
                "export event not acknowledged; the relay will retry", job_id=str(job_id), error=str(exc)
            )
            return False
        async with self._sessions.begin() as session:
            await repository.mark_published(session, job_id, column, self._clock())
        return True
