"""Handles `export.requested.v1`: render the transcript, retrying a failed render with backoff,
store the PDF, and tell the requester either way through `export.completed.v1`.

Idempotent on the job's state: a redelivered request for a finished job changes nothing (the
relay publishes a completion Kafka did not acknowledge); a job left `running` by a process that
stopped mid-render runs again."""

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tenacity import AsyncRetrying, retry_if_not_exception_type, stop_after_attempt, wait_exponential

from exporter import repository
from exporter.domain.jobs import ExportJob
from exporter.links import DownloadLinks
from exporter.routing_client import ConversationNotFound, RoutingClient, RoutingUnavailable
from exporter.storage import LocalStorage
from exporter.usecases.events import JobEvents
from exporter.usecases.transcript import render_transcript
from shared.contracts.export import ExportRequested

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class RenderPolicy:
    chunk_size: int
    page_size: int
    attempts: int
    retry_initial_seconds: float


class ExportRunner:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        routing: RoutingClient,
        storage: LocalStorage,
        links: DownloadLinks,
        events: JobEvents,
        policy: RenderPolicy,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = sessions
        self._routing = routing
        self._storage = storage
        self._links = links
        self._events = events
        self._policy = policy
        self._clock = clock

    async def handle(self, event: ExportRequested) -> None:
        async with self._sessions.begin() as session:
            job = await repository.start_attempt(session, event.account_id, event.job_id)
        if job is None:
            log.info("export request for a finished or unknown job ignored", job_id=str(event.job_id))
            return
        job = await self._run(job)
        log.info("export finished", job_id=str(job.id), status=job.status, pages=job.pages)
        await self._events.publish_completed(job)

    async def _run(self, job: ExportJob) -> ExportJob:
        policy = self._policy
        attempt_number = 0
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(policy.attempts),
                wait=wait_exponential(multiplier=policy.retry_initial_seconds, max=60),
                retry=retry_if_not_exception_type(ConversationNotFound),
                reraise=True,
            ):
                with attempt:
                    attempt_number += 1
                    if attempt_number > 1:  # the first was counted when the job started
                        async with self._sessions.begin() as session:
                            await repository.count_attempt(session, job.id)
                    return await self._render_and_store(job)
        except Exception as exc:
            reason = _reason(exc)
            log.warning("export failed", job_id=str(job.id), reason=reason, exc_info=exc)
            async with self._sessions.begin() as session:
                return await repository.mark_failed(session, job.id, reason, self._clock())
        raise AssertionError("unreachable: tenacity either returns or re-raises")

    async def _render_and_store(self, job: ExportJob) -> ExportJob:
        now = self._clock()
        with tempfile.TemporaryDirectory(prefix=f"export-{job.id}-") as workdir:
            target = Path(workdir) / "transcript.pdf"
            rendered = await render_transcript(
                self._routing,
                job,
                target,
                Path(workdir),
                chunk_size=self._policy.chunk_size,
                page_size=self._policy.page_size,
                now=now,
            )
            key = self._storage.save(job.id, target)
        finished = self._clock()
        async with self._sessions.begin() as session:
            return await repository.mark_done(
                session, job.id, key, rendered.pages, self._links.expiry(finished), finished
            )


def _reason(exc: Exception) -> str:
    """What the requester is told: plain words, no internals (the log has the details)."""
    if isinstance(exc, ConversationNotFound):
        return "the conversation was not found"
    if isinstance(exc, RoutingUnavailable):
        return f"the conversation could not be read: {exc}"
    if isinstance(exc, OSError):
        return "the PDF could not be stored"
    return "the PDF could not be rendered"
