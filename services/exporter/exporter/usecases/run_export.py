"""Handles `export.requested.v1`: render the transcript, retrying a failed render with backoff,
store the PDF, and tell the requester either way through `export.completed.v1`.

Idempotent on the job's state: a redelivered request for a finished job changes nothing (the
relay publishes a completion Kafka did not acknowledge). A run holds its job under a lease it
renews while rendering: a redelivery during the render (a Kafka rebalance) finds the job held and
does nothing, a job whose runner stopped runs again once the lease ends, and a run that lost its
job can no longer finish it."""

import asyncio
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tenacity import AsyncRetrying, retry_if_not_exception_type, stop_after_attempt, wait_exponential

from exporter import repository
from exporter.domain.jobs import ExportJob
from exporter.links import DownloadLinks
from exporter.routing_client import ConversationNotFound, RoutingClient, RoutingUnavailable
from exporter.storage import PdfStore
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
    # How long a run holds its job without renewing; renewed every third of it while it runs.
    lease_seconds: float = 300.0

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_seconds)


class ExportRunner:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        routing: RoutingClient,
        storage: PdfStore,
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
            job = await repository.start_attempt(session, event.account_id, event.job_id, self._policy.lease)
        if job is None:
            log.info(
                "export request for a finished, running or unknown job ignored", job_id=str(event.job_id)
            )
            return
        finished = await self._run_holding_lease(job)
        if finished is None:
            log.warning("export run lost its job to another run; that run reports it", job_id=str(job.id))
            return
        log.info("export finished", job_id=str(finished.id), status=finished.status, pages=finished.pages)
        await self._events.publish_completed(finished)

    async def _run_holding_lease(self, job: ExportJob) -> ExportJob | None:
        """Runs the job while renewing its lease; None when the run lost the job (the lease could
        not be renewed in time and another run took it, or it is no longer `running`)."""
        assert job.run_token is not None
        render = asyncio.ensure_future(self._run(job))
        lost = False

        async def keep_lease() -> None:
            nonlocal lost
            while True:
                await asyncio.sleep(self._policy.lease_seconds / 3)
                try:
                    async with self._sessions.begin() as session:
                        held = await repository.renew_lease(
                            session, job.id, job.run_token, self._policy.lease
                        )
                except Exception as exc:  # the next renewal may succeed before the lease ends
                    log.warning("export lease not renewed", job_id=str(job.id), exc_info=exc)
                    continue
                if not held:
                    lost = True
                    render.cancel()
                    return

        keeper = asyncio.create_task(keep_lease())
        try:
            return await render
        except asyncio.CancelledError:
            if lost:
                return None
            raise
        finally:
            keeper.cancel()

    async def _run(self, job: ExportJob) -> ExportJob | None:
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
                            if not await repository.count_attempt(session, job.id, job.run_token):
                                return None
                    return await self._render_and_store(job)
        except Exception as exc:
            reason = _reason(exc)
            log.warning("export failed", job_id=str(job.id), reason=reason, exc_info=exc)
            async with self._sessions.begin() as session:
                return await repository.mark_failed(session, job.id, job.run_token, reason, self._clock())
        raise AssertionError("unreachable: tenacity either returns or re-raises")

    async def _render_and_store(self, job: ExportJob) -> ExportJob | None:
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
            key = await self._storage.put(job.id, target)
        finished = self._clock()
        async with self._sessions.begin() as session:
            return await repository.mark_done(
                session, job.id, job.run_token, key, rendered.pages, self._links.expiry(finished), finished
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
