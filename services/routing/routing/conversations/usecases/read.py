"""A staff member opens a conversation: it is read up to its latest inbound message."""

from datetime import datetime
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from routing.conversations.queries import conversations_of
from routing.conversations.usecases.errors import ConversationsNotFound
from routing.conversations.usecases.read_state import refresh_conversations
from routing.tables import conversations, messages, read_marks


async def mark_read(
    session: AsyncSession, account_id: UUID, user_id: UUID, conversation_id: UUID, now: datetime
) -> dict:
    found = await session.scalar(
        conversations_of(account_id)
        .with_only_columns(conversations.c.id)
        .where(conversations.c.id == conversation_id)
    )
    if found is None:
        raise ConversationsNotFound([conversation_id])
    latest = (
        await session.execute(
            select(messages.c.id, messages.c.created_at)
            .where(
                messages.c.account_id == account_id,
                messages.c.conversation_id == conversation_id,
                messages.c.direction == "inbound",
            )
            .order_by(messages.c.created_at.desc(), messages.c.id.desc())
            .limit(1)
        )
    ).first()
    message_id, read_at = (latest.id, latest.created_at) if latest else (None, now)
    statement = insert(read_marks).values(
        user_id=user_id,
        conversation_id=conversation_id,
        last_read_message_id=message_id,
        last_read_at=read_at,
    )
    # Never moves backwards (two tabs, a late request).
    excluded = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=[read_marks.c.user_id, read_marks.c.conversation_id],
        set_={
            "last_read_message_id": func.coalesce(
                excluded.last_read_message_id, read_marks.c.last_read_message_id
            ),
            "last_read_at": func.greatest(read_marks.c.last_read_at, excluded.last_read_at),
            "updated_at": func.now(),
        },
    ).returning(read_marks.c.last_read_message_id, read_marks.c.last_read_at)
    row = (await session.execute(statement)).one()
    await refresh_conversations(session, account_id, [conversation_id])
    return {
        "conversation_id": conversation_id,
        "user_id": user_id,
        "last_read_message_id": row.last_read_message_id,
        "last_read_at": row.last_read_at,
    }
