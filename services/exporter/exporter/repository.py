"""Queries on export jobs. Every lookup on behalf of a caller starts from `_jobs_of(account)`,
so one account never reaches another's job."""

from datetime import datetime, timedelta
from uuid import UUID, uuid4

from sqlalchemy import Select, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from exporter.domain.jobs import PENDING, ExportJob, request_key
from exporter.tables import export_jobs

_FIELDS = [export_jobs.c[name] for name in ExportJob.__dataclass_fields__]


def _job(row) -> ExportJob:
    return ExportJob(**{name: row._mapping[name] for name in ExportJob.__dataclass_fields__})


def _jobs_of(account_id: UUID) -> Select:
    return select(*_FIELDS).where(export_jobs.c.account_id == account_id)


async def job_of_account(session: AsyncSession, account_id: UUID, job_id: UUID) -> ExportJob | None:
    row = (await session.execute(_jobs_of(account_id).where(export_jobs.c.id == job_id))).first()
    return _job(row) if row else None


async def create_or_find_pending(
    session: AsyncSession,
    *,
    account_id: UUID,
    requested_by: UUID,
    conversation_id: UUID,
    since: datetime | None,
    until: datetime | None,
    time_zone: str | None,
) -> tuple[ExportJob, bool]:
    """A new queued job, or the pending one for the same requester, conversation and range:
    (job, created). The partial unique index decides between concurrent requests."""
    key = request_key(conversation_id, since, until)
    pending = _jobs_of(account_id).where(
        export_jobs.c.requested_by == requested_by,
        export_jobs.c.request_key == key,
        export_jobs.c.status.in_(PENDING),
    )
    while True:
        inserted = (
            await session.execute(
                insert(export_jobs)
                .values(
                    id=uuid4(),
                    account_id=account_id,
                    requested_by=requested_by,
                    conversation_id=conversation_id,
                    since=since,
                    until=until,
                    time_zone=time_zone,
                    request_key=key,
                    status="queued",
                )
                .on_conflict_do_nothing(
                    index_elements=["account_id", "requested_by", "request_key"],
                    # Literal, as in the index: Postgres cannot match a predicate with parameters.
                    index_where=text("status IN ('queued', 'running')"),
                )
                .returning(*_FIELDS)
            )
        ).first()
        if inserted:
            return _job(inserted), True
        existing = (await session.execute(pending)).first()
        if existing:
            return _job(existing), False
        # The pending one finished between the two statements: ask again.


async def start_attempt(
    session: AsyncSession, account_id: UUID, job_id: UUID, lease: timedelta
) -> ExportJob | None:
    """Takes a queued job for a new run: marks it running under a fresh `run_token` until
    now + `lease`, and counts the attempt. A `running` job is taken only once its lease has ended
    (its runner stopped mid-render); while the lease holds, it belongs to the run that holds it
    (a redelivery after a Kafka rebalance must not render it a second time). None when the job
    is finished, held by another run, or unknown."""
    c = export_jobs.c
    row = (
        await session.execute(
            update(export_jobs)
            .where(
                c.id == job_id,
                c.account_id == account_id,
                or_(c.status == "queued", (c.status == "running") & (c.running_until < func.now())),
            )
            .values(
                status="running",
                attempts=c.attempts + 1,
                run_token=uuid4(),
                running_until=func.now() + lease,
                updated_at=text("now()"),
            )
            .returning(*_FIELDS)
        )
    ).first()
    return _job(row) if row else None


def _held_by(job_id: UUID, run_token: UUID):
    c = export_jobs.c
    return (c.id == job_id) & (c.status == "running") & (c.run_token == run_token)


async def renew_lease(session: AsyncSession, job_id: UUID, run_token: UUID, lease: timedelta) -> bool:
    """Extends the run's lease; False when the run no longer holds the job."""
    renewed = await session.execute(
        update(export_jobs)
        .where(_held_by(job_id, run_token))
        .values(running_until=func.now() + lease)
        .returning(export_jobs.c.id)
    )
    return renewed.first() is not None


async def count_attempt(session: AsyncSession, job_id: UUID, run_token: UUID) -> bool:
    counted = await session.execute(
        update(export_jobs)
        .where(_held_by(job_id, run_token))
        .values(attempts=export_jobs.c.attempts + 1, updated_at=text("now()"))
        .returning(export_jobs.c.id)
    )
    return counted.first() is not None


async def mark_done(
    session: AsyncSession,
    job_id: UUID,
    run_token: UUID,
    file_key: str,
    pages: int,
    expires_at: datetime,
    now: datetime,
) -> ExportJob | None:
    return await _finish(
        session, job_id, run_token, now, status="done", file_key=file_key, pages=pages, expires_at=expires_at
    )


async def mark_failed(
    session: AsyncSession, job_id: UUID, run_token: UUID, reason: str, now: datetime
) -> ExportJob | None:
    return await _finish(session, job_id, run_token, now, status="failed", failed_reason=reason[:1000])


async def _finish(
    session: AsyncSession, job_id: UUID, run_token: UUID, now: datetime, **values
) -> ExportJob | None:
    """Finishes the job only for the run that holds it: None when another run took it over (its
    lease ended) or finished it, so a late run can neither overwrite nor move the status back."""
    row = (
        await session.execute(
            update(export_jobs)
            .where(_held_by(job_id, run_token))
            .values(**values, finished_at=now, updated_at=now, running_until=None)
            .returning(*_FIELDS)
        )
    ).first()
    return _job(row) if row else None


async def mark_published(session: AsyncSession, job_id: UUID, column: str, now: datetime) -> None:
    await session.execute(update(export_jobs).where(export_jobs.c.id == job_id).values({column: now}))


async def lock_unpublished(
    session: AsyncSession, older_than: timedelta, limit: int
) -> list[tuple[ExportJob, bool, bool]]:
    """Jobs whose events must be published (again), locked for this transaction so that other
    replicas skip them: (job, request event due, completion event due). The caller copies them
    out and commits before publishing."""
    c = export_jobs.c
    # A queued job whose request Kafka did not acknowledge; or a running one whose run stopped
    # (its lease ended and the request that started it was consumed): asked for again.
    requested_pending = (c.requested_published_at.is_(None) & (c.status == "queued")) | (
        (c.status == "running") & (c.running_until < func.now())
    )
    completed_pending = c.status.in_(("done", "failed")) & c.completed_published_at.is_(None)
    rows = await session.execute(
        select(
            *_FIELDS,
            requested_pending.label("requested_pending"),
            completed_pending.label("completed_pending"),
        )
        .where(or_(requested_pending, completed_pending), c.updated_at < func.now() - older_than)
        .order_by(c.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [(_job(row), row.requested_pending, row.completed_pending) for row in rows]


async def job_by_id(session: AsyncSession, job_id: UUID) -> ExportJob | None:
    """Only for callers that proved a right to this very job (a verified download link)."""
    row = (await session.execute(select(*_FIELDS).where(export_jobs.c.id == job_id))).first()
    return _job(row) if row else None


async def lock_expired_files(session: AsyncSession, expired_before: datetime, limit: int) -> list[ExportJob]:
    """Done jobs whose link expired before `expired_before`: their files are due for deletion.
    Locked for the caller's transaction, skipping rows another replica's sweep holds."""
    c = export_jobs.c
    rows = await session.execute(
        select(*_FIELDS)
        .where(c.status == "done", c.expires_at < expired_before)
        .order_by(c.expires_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [_job(row) for row in rows]


async def mark_expired(session: AsyncSession, job_ids: list[UUID], now: datetime) -> None:
    """The file of these done jobs is deleted: the job stays, as `expired` (file_key kept, for the
    record of what was deleted)."""
    if job_ids:
        await session.execute(
            update(export_jobs)
            .where(export_jobs.c.id.in_(job_ids), export_jobs.c.status == "done")
            .values(status="expired", updated_at=now)
        )
