"""Close or reopen conversations by hand, one or many at once. Nothing is deleted; an archived
conversation (from a profile merge) stays archived. Each conversation that changes gets its
timeline entry and its `conversation.status_changed.v1`, whether changed alone or in bulk."""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID, uuid4

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from routing.conversations.queries import conversations_of, matching
from routing.conversations.usecases.assign import MAX_BULK
from routing.conversations.usecases.errors import ConversationsNotFound, StatusConflict, TooManyConversations
from routing.domain.inbox import InboxFilter, Viewer
from routing.outbox import add_events
from routing.tables import conversations, timeline_events
from shared.contracts.conversation import ConversationStatusChanged
from shared.contracts.topics import CONVERSATION_STATUS_CHANGED

Target = Literal["open", "closed"]


@dataclass(frozen=True)
class Current:
    id: UUID
    status: str


async def change_status(
    session: AsyncSession,
    account_id: UUID,
    actor_user_id: UUID,
    conversation_id: UUID,
    status: Target,
    now: datetime,
) -> bool:
    """True when the status changed; False when it already was `status` (nothing recorded)."""
    current = await session.scalar(
        conversations_of(account_id)
        .with_only_columns(conversations.c.status)
        .where(conversations.c.id == conversation_id)
        .with_for_update()
    )
    if current is None:
        raise ConversationsNotFound([conversation_id])
    if current == "archived":
        raise StatusConflict("an archived conversation cannot be closed or reopened")
    if current == status:
        return False
    await _apply(session, account_id, actor_user_id, [Current(conversation_id, current)], status, now)
    return True


async def change_statuses(
    session: AsyncSession,
    viewer: Viewer,
    status: Target,
    now: datetime,
    *,
    conversation_ids: list[UUID] | None = None,
    inbox_filter: InboxFilter | None = None,
) -> list[UUID]:
    """Bulk close or reopen: the listed conversations, or every one matching the filter. Ids that
    are not conversations of the caller's account, archived conversations and those already in
    `status` are left alone. The ids changed, in id order."""
    c = conversations.c
    if conversation_ids is not None:
        query = conversations_of(viewer.account_id).where(c.id.in_(list(dict.fromkeys(conversation_ids))))
    else:
        assert inbox_filter is not None
        query = matching(viewer, inbox_filter).limit(MAX_BULK + 1)
    # Locked in id order, so two bulk actions never deadlock.
    rows = (
        await session.execute(
            query.with_only_columns(c.id, c.status).order_by(c.id).with_for_update(of=conversations)
        )
    ).all()
    if len(rows) > MAX_BULK:
        raise TooManyConversations(f"the filter matches more than {MAX_BULK} conversations; narrow it")
    to_change = [Current(row.id, row.status) for row in rows if row.status not in ("archived", status)]
    await _apply(session, viewer.account_id, viewer.user_id, to_change, status, now)
    return [row.id for row in to_change]


async def _apply(
    session: AsyncSession,
    account_id: UUID,
    actor_user_id: UUID,
    changing: list[Current],
    status: Target,
    now: datetime,
) -> None:
    if not changing:
        return
    await session.execute(
        update(conversations)
        .where(conversations.c.account_id == account_id, conversations.c.id.in_([row.id for row in changing]))
        .values(status=status)
    )
    await session.execute(
        timeline_events.insert(),
        [
            {
                "id": uuid4(),
                "account_id": account_id,
                "conversation_id": row.id,
                "kind": "closed" if status == "closed" else "reopened",
                "actor_user_id": actor_user_id,
                "data": {"previous_status": row.status},
                "created_at": now,
            }
            for row in changing
        ],
    )
    events = [
        ConversationStatusChanged(
            account_id=account_id,
            occurred_at=now,
            conversation_id=row.id,
            status=status,
            previous_status=row.status,
            actor_user_id=actor_user_id,
        )
        for row in changing
    ]
    await add_events(session, CONVERSATION_STATUS_CHANGED, [(event, event.partition_key) for event in events])
