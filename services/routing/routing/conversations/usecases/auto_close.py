"""Auto-close: open conversations inactive for longer than their account's
`auto_close_after_days` are closed, one batch per transaction.

Rows are taken with `FOR UPDATE SKIP LOCKED`, so sweepers on several replicas split the due
conversations between them instead of closing one twice, and a conversation locked by an inbound
message being stored right now is left for the next batch (by then it is no longer due)."""

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession

from routing.outbox import add_event
from routing.tables import conversations, timeline_events
from shared.contracts.conversation import ConversationStatusChanged
from shared.contracts.topics import CONVERSATION_STATUS_CHANGED

REASON = "auto_close"

# The join lets the planner walk each enabled account's open conversations through the partial
# index conversations_auto_close (account_id, last_activity_at) WHERE status = 'open'.
_DUE = text(
    """
    SELECT c.id, c.account_id
    FROM routing.conversations c
    JOIN routing.accounts a ON a.id = c.account_id
    WHERE a.auto_close_after_days IS NOT NULL
      AND c.status = 'open'
      AND c.last_activity_at < CAST(:now AS timestamptz) - make_interval(days => a.auto_close_after_days)
    LIMIT :limit
    FOR UPDATE OF c SKIP LOCKED
    """
)


async def close_due_batch(session: AsyncSession, now: datetime, limit: int) -> list[UUID]:
    """Closes up to `limit` due conversations in the caller's transaction: status, a `closed`
    timeline event without actor, and `conversation.status_changed.v1` in the outbox. The ids
    closed; empty when nothing (unlocked) is due."""
    rows = (await session.execute(_DUE, {"now": now, "limit": limit})).all()
    if not rows:
        return []
    ids = [row.id for row in rows]
    await session.execute(update(conversations).where(conversations.c.id.in_(ids)).values(status="closed"))
    await session.execute(
        timeline_events.insert(),
        [
            {
                "id": uuid4(),
                "account_id": row.account_id,
                "conversation_id": row.id,
                "kind": "closed",
                "actor_user_id": None,
                "data": {"previous_status": "open", "reason": REASON},
                "created_at": now,
            }
            for row in rows
        ],
    )
    for row in rows:
        event = ConversationStatusChanged(
            account_id=row.account_id,
            occurred_at=now,
            conversation_id=row.id,
            status="closed",
            previous_status="open",
            actor_user_id=None,
            reason=REASON,
        )
        await add_event(session, CONVERSATION_STATUS_CHANGED, event, key=event.partition_key)
    return ids
