"""A staff member opens a conversation: it is read up to its latest inbound message; or marks it
unread again. Read marks are per person; what counts as read for the conversation's owners
(conversations.owner_read_at) follows from them (read_state.py). Each change of a person's own
read state is announced on `conversation.read.v1` through the outbox."""

from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import case, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from routing.conversations.queries import conversations_of
from routing.conversations.usecases.errors import ConversationsNotFound
from routing.conversations.usecases.read_state import refresh_conversations
from routing.domain.inbox import is_read
from routing.outbox import add_event
from routing.tables import conversations, messages, read_marks
from shared.contracts.conversation import ConversationReadChanged
from shared.contracts.topics import CONVERSATION_READ


async def mark_read(
    session: AsyncSession, account_id: UUID, user_id: UUID, conversation_id: UUID, now: datetime
) -> dict:
    conversation = await _conversation(session, account_id, conversation_id)
    before = await _position(session, user_id, conversation_id)
    latest = await _latest_inbound(session, account_id, conversation_id, 1)
    message_id, read_at = (latest[0].id, latest[0].created_at) if latest else (None, now)
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
    return await _changed(session, account_id, user_id, conversation, before, row, now)


async def mark_unread(
    session: AsyncSession, account_id: UUID, user_id: UUID, conversation_id: UUID, now: datetime
) -> dict:
    """The caller's read position moves back to just before the latest inbound message (it never
    moves forward here: a position further back stays). For a team's conversation that another
    member has read, the team's read state stays read, as one member reading makes it read."""
    conversation = await _conversation(session, account_id, conversation_id)
    before = await _position(session, user_id, conversation_id)
    latest = await _latest_inbound(session, account_id, conversation_id, 2)
    if len(latest) == 2:  # read up to the inbound message before the latest
        message_id, read_at = latest[1].id, latest[1].created_at
    elif latest:  # nothing read yet
        message_id, read_at = None, latest[0].created_at - timedelta(microseconds=1)
    else:  # no inbound message: nothing to read
        message_id, read_at = None, conversation.created_at or now
    statement = insert(read_marks).values(
        user_id=user_id,
        conversation_id=conversation_id,
        last_read_message_id=message_id,
        last_read_at=read_at,
    )
    excluded = statement.excluded
    further_back = excluded.last_read_at < read_marks.c.last_read_at
    statement = statement.on_conflict_do_update(
        index_elements=[read_marks.c.user_id, read_marks.c.conversation_id],
        set_={
            "last_read_message_id": case(
                (further_back, excluded.last_read_message_id), else_=read_marks.c.last_read_message_id
            ),
            "last_read_at": func.least(read_marks.c.last_read_at, excluded.last_read_at),
            "updated_at": func.now(),
        },
    ).returning(read_marks.c.last_read_message_id, read_marks.c.last_read_at)
    row = (await session.execute(statement)).one()
    return await _changed(session, account_id, user_id, conversation, before, row, now)


async def _conversation(session: AsyncSession, account_id: UUID, conversation_id: UUID):
    found = (
        await session.execute(
            conversations_of(account_id)
            .with_only_columns(
                conversations.c.id, conversations.c.last_inbound_at, conversations.c.created_at
            )
            .where(conversations.c.id == conversation_id)
        )
    ).first()
    if found is None:
        raise ConversationsNotFound([conversation_id])
    return found


async def _position(session: AsyncSession, user_id: UUID, conversation_id: UUID) -> datetime | None:
    return await session.scalar(
        select(read_marks.c.last_read_at).where(
            read_marks.c.user_id == user_id, read_marks.c.conversation_id == conversation_id
        )
    )


async def _latest_inbound(session: AsyncSession, account_id: UUID, conversation_id: UUID, count: int) -> list:
    return list(
        await session.execute(
            select(messages.c.id, messages.c.created_at)
            .where(
                messages.c.account_id == account_id,
                messages.c.conversation_id == conversation_id,
                messages.c.direction == "inbound",
            )
            .order_by(messages.c.created_at.desc(), messages.c.id.desc())
            .limit(count)
        )
    )


async def _changed(
    session: AsyncSession, account_id: UUID, user_id: UUID, conversation, before: datetime | None, row, now
) -> dict:
    """Refreshes the owners' read state and announces the person's own change, if any."""
    await refresh_conversations(session, account_id, [conversation.id])
    was_read = is_read(conversation.last_inbound_at, before)
    now_read = is_read(conversation.last_inbound_at, row.last_read_at)
    if was_read != now_read:
        event = ConversationReadChanged(
            account_id=account_id,
            occurred_at=now,
            conversation_id=conversation.id,
            user_id=user_id,
            read=now_read,
        )
        await add_event(session, CONVERSATION_READ, event, key=event.partition_key)
    return {
        "conversation_id": conversation.id,
        "user_id": user_id,
        "last_read_message_id": row.last_read_message_id,
        "last_read_at": row.last_read_at,
    }
