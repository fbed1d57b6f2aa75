"""The e-mail outbox: a row per (event, user) written with the notification, leased one row at a
time by the sending worker (with a token) so several replicas never send the same row at once."""

import json
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID, uuid4

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class PendingEmail:
    id: int
    account_id: UUID
    user_id: UUID | None
    kind: str
    context: dict
    attempts: int
    lease_token: UUID
    # Set for e-mails to an address rather than to a user (an invitation, a password reset).
    recipient_email: str | None = None
    recipient_name: str | None = None


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


async def enqueue_direct_email(
    session: AsyncSession,
    account_id: UUID,
    kind: str,
    source_event_id: UUID,
    context: dict,
    recipient_email: str,
    recipient_name: str,
) -> bool:
    """An e-mail to an address (not looked up in the staff directory); False on a replay."""
    inserted = await session.scalar(
        text(
            "INSERT INTO notifier.email_outbox"
            " (account_id, user_id, kind, source_event_id, context, recipient_email, recipient_name)"
            " VALUES (:account, NULL, :kind, :event, CAST(:context AS jsonb), :email, :name)"
            " ON CONFLICT DO NOTHING RETURNING id"
        ),
        {
            "account": account_id,
            "kind": kind,
            "event": source_event_id,
            "context": json.dumps(context),
            "email": recipient_email,
            "name": recipient_name,
        },
    )
    return inserted is not None


async def due_ids(session: AsyncSession, limit: int) -> list[int]:
    """Rows that may be sent now, oldest first. Nothing is taken yet: each is leased on its own
    just before it is sent (`lease`), so a long batch never outlives its lease."""
    rows = await session.execute(
        text(
            "SELECT id FROM notifier.email_outbox WHERE status = 'pending' AND next_attempt_at <= now()"
            " ORDER BY next_attempt_at, id LIMIT :limit"
        ),
        {"limit": limit},
    )
    return [row.id for row in rows]


async def lease(session: AsyncSession, email_id: int, lease_for: timedelta) -> PendingEmail | None:
    """Takes one due row for `lease_for` under a fresh token, counted as one more attempt; None when
    another worker holds it (or it was settled meanwhile). A worker that dies mid-send leaves the
    row to be retried when the lease ends."""
    row = (
        await session.execute(
            text(
                "UPDATE notifier.email_outbox SET attempts = attempts + 1, lease_token = :token,"
                " next_attempt_at = now() + make_interval(secs => :lease)"
                " WHERE id = :id AND status = 'pending' AND next_attempt_at <= now()"
                " RETURNING id, account_id, user_id, kind, context, attempts, lease_token,"
                " recipient_email, recipient_name"
            ),
            {"id": email_id, "token": uuid4(), "lease": lease_for.total_seconds()},
        )
    ).first()
    if row is None:
        return None
    return PendingEmail(
        row.id,
        row.account_id,
        row.user_id,
        row.kind,
        row.context,
        row.attempts,
        row.lease_token,
        row.recipient_email,
        row.recipient_name,
    )


# Each write below counts only while the worker still holds the row's lease: a worker whose
# lease ran out (and whose row another worker took) changes nothing. Each returns whether it did.


async def mark_sent(session: AsyncSession, email: PendingEmail, to_address: str) -> bool:
    done = await session.execute(
        text(
            "UPDATE notifier.email_outbox SET status = 'sent', sent_at = now(), to_address = :to,"
            " last_error = NULL, lease_token = NULL WHERE id = :id AND lease_token = :token"
        ),
        {"id": email.id, "token": email.lease_token, "to": to_address},
    )
    return done.rowcount == 1


async def mark_failed(session: AsyncSession, email: PendingEmail, reason: str) -> bool:
    done = await session.execute(
        text(
            "UPDATE notifier.email_outbox SET status = 'failed', last_error = :reason, lease_token = NULL"
            " WHERE id = :id AND lease_token = :token"
        ),
        {"id": email.id, "token": email.lease_token, "reason": reason[:2000]},
    )
    return done.rowcount == 1


async def retry_later(session: AsyncSession, email: PendingEmail, reason: str, delay: timedelta) -> bool:
    done = await session.execute(
        text(
            "UPDATE notifier.email_outbox SET last_error = :reason, lease_token = NULL,"
            " next_attempt_at = now() + make_interval(secs => :delay) WHERE id = :id AND lease_token = :token"
        ),
        {"id": email.id, "token": email.lease_token, "reason": reason[:2000], "delay": delay.total_seconds()},
    )
    return done.rowcount == 1
