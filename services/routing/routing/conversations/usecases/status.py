"""Close or reopen a conversation by hand. Nothing is deleted; an archived conversation (from a
profile merge) stays archived."""

from datetime import datetime
from typing import Literal
from uuid import UUID, uuid4

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from routing.conversations.queries import conversations_of
from routing.conversations.usecases.errors import ConversationsNotFound, StatusConflict
from routing.outbox import add_event
from routing.tables import conversations, timeline_events
from shared.contracts.conversation import ConversationStatusChanged
from shared.contracts.topics import CONVERSATION_STATUS_CHANGED


async def change_status(
    session: AsyncSession,
    account_id: UUID,
    actor_user_id: UUID,
    conversation_id: UUID,
    status: Literal["open", "closed"],
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
    await session.execute(
        update(conversations)
        .where(conversations.c.id == conversation_id, conversations.c.account_id == account_id)
        .values(status=status)
    )
    await session.execute(
        timeline_events.insert().values(
            id=uuid4(),
            account_id=account_id,
            conversation_id=conversation_id,
            kind="closed" if status == "closed" else "reopened",
            actor_user_id=actor_user_id,
            data={"previous_status": current},
            created_at=now,
        )
    )
    event = ConversationStatusChanged(
        account_id=account_id,
        occurred_at=now,
        conversation_id=conversation_id,
        status=status,
        previous_status=current,
        actor_user_id=actor_user_id,
    )
    await add_event(session, CONVERSATION_STATUS_CHANGED, event, key=event.partition_key)
    return True
