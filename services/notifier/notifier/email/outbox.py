"""The e-mail outbox: a row per (event, user) written with the notification, taken by the
sending worker with a lease so several replicas never send the same row at the same time."""

import json
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class PendingEmail:
    id: int
    account_id: UUID
    user_id: UUID
    kind: str
    context: dict
    attempts: int


async def enqueue_email(
    session: AsyncSession,
    account_id: UUID,
    user_id: UUID,
    kind: str,
    source_event_id: UUID,
    context: dict,
    notification_id: int | None,
) -> bool:
    """False when this event already has an e-mail for this user (a replay)."""
    inserted = await session.scalar(
        text(
            "INSERT INTO notifier.email_outbox"
            " (account_id, user_id, kind, source_event_id, context, notification_id)"
            " VALUES (:account, :user, :kind, :event, CAST(:context AS jsonb), :notification)"
            " ON CONFLICT DO NOTHING RETURNING id"
        ),
        {
            "account": account_id,
            "user": user_id,
            "kind": kind,
            "event": source_event_id,
            "context": json.dumps(context),
            "notification": notification_id,
        },
    )
    return inserted is not None


async def take_due(session: AsyncSession, limit: int, lease: timedelta) -> list[PendingEmail]:
    """Due rows, each counted as one more attempt and hidden from other workers for `lease`
    (a worker that dies mid-send leaves the row to be retried when the lease ends)."""
    rows = await session.execute(
        text(
            "UPDATE notifier.email_outbox o SET attempts = o.attempts + 1,"
            " next_attempt_at = now() + make_interval(secs => :lease)"
            " FROM (SELECT id FROM notifier.email_outbox"
            "       WHERE status = 'pending' AND next_attempt_at <= now()"
            "       ORDER BY next_attempt_at, id LIMIT :limit FOR UPDATE SKIP LOCKED) due"
            " WHERE o.id = due.id"
            " RETURNING o.id, o.account_id, o.user_id, o.kind, o.context, o.attempts"
        ),
        {"limit": limit, "lease": lease.total_seconds()},
    )
    return [PendingEmail(r.id, r.account_id, r.user_id, r.kind, r.context, r.attempts) for r in rows]


async def mark_sent(session: AsyncSession, email_id: int, to_address: str) -> None:
    await session.execute(
        text(
            "UPDATE notifier.email_outbox SET status = 'sent', sent_at = now(), to_address = :to,"
            " last_error = NULL WHERE id = :id"
        ),
        {"id": email_id, "to": to_address},
    )


async def mark_failed(session: AsyncSession, email_id: int, reason: str) -> None:
    await session.execute(
        text("UPDATE notifier.email_outbox SET status = 'failed', last_error = :reason WHERE id = :id"),
        {"id": email_id, "reason": reason[:2000]},
    )


async def retry_later(session: AsyncSession, email_id: int, reason: str, delay: timedelta) -> None:
    await session.execute(
        text(
            "UPDATE notifier.email_outbox SET last_error = :reason,"
            " next_attempt_at = now() + make_interval(secs => :delay) WHERE id = :id"
        ),
        {"id": email_id, "reason": reason[:2000], "delay": delay.total_seconds()},
    )
