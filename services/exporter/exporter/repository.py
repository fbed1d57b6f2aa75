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


async def start_attempt(session: AsyncSession, account_id: UUID, job_id: UUID) -> ExportJob | None:
    """Marks a pending job running and counts the attempt; None when it is finished or unknown.
    A job found `running` was left so by a process that stopped mid-render: it runs again."""
    row = (
        await session.execute(
            update(export_jobs)
            .where(
                export_jobs.c.id == job_id,
                export_jobs.c.account_id == account_id,
                export_jobs.c.status.in_(PENDING),
            )
            .values(status="running", attempts=export_jobs.c.attempts + 1, updated_at=text("now()"))
            .returning(*_FIELDS)
        )
    ).first()
    return _job(row) if row else None


async def count_attempt(session: AsyncSession, job_id: UUID) -> None:
    await session.execute(
        update(export_jobs)
        .where(export_jobs.c.id == job_id)
        .values(attempts=export_jobs.c.attempts + 1, updated_at=text("now()"))
    )


async def mark_done(
    session: AsyncSession, job_id: UUID, file_key: str, pages: int, expires_at: datetime, now: datetime
) -> ExportJob:
    return await _finish(
        session, job_id, now, status="done", file_key=file_key, pages=pages, expires_at=expires_at
    )


async def mark_failed(session: AsyncSession, job_id: UUID, reason: str, now: datetime) -> ExportJob:
    return await _finish(session, job_id, now, status="failed", failed_reason=reason[:1000])


async def _finish(session: AsyncSession, job_id: UUID, now: datetime, **values) -> ExportJob:
    row = (
        await session.execute(
            update(export_jobs)
            .where(export_jobs.c.id == job_id)
            .values(**values, finished_at=now, updated_at=now)
            .returning(*_FIELDS)
        )
    ).one()
    return _job(row)


async def mark_published(session: AsyncSession, job_id: UUID, column: str, now: datetime) -> None:
    await session.execute(update(export_jobs).where(export_jobs.c.id == job_id).values({column: now}))


async def lock_unpublished(
    session: AsyncSession, older_than: timedelta, limit: int
) -> list[tuple[ExportJob, bool, bool]]:
    """Jobs whose events Kafka has not acknowledged, locked for this transaction (other replicas
    skip them): (job, requested event pending, completed event pending)."""
    c = export_jobs.c
    # Only a queued job may need its request again: a running or finished one was consumed.
    requested_pending = c.requested_published_at.is_(None) & (c.status == "queued")
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
