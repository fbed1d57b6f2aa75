"""Internal notes in a conversation: for colleagues only, never sent to the customer; @mentions
are resolved to the account's active staff, who hear about it through notifier."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from routing.conversations.queries import conversation_exists
from routing.conversations.usecases.errors import ConversationsNotFound
from routing.domain.inbox import Viewer
from routing.domain.mentions import Colleague, find_mentions
from routing.outbox import add_event
from routing.tables import timeline_events, users
from shared.contracts.conversation import NoteAdded
from shared.contracts.topics import CONVERSATION_NOTE_ADDED


@dataclass(frozen=True)
class AddedNote:
    id: UUID
    conversation_id: UUID
    body: str
    mentioned_user_ids: list[UUID]
    actor_name: str
    created_at: datetime


async def mentioned_colleagues(session: AsyncSession, account_id: UUID, note: str) -> list[UUID]:
    colleagues = [
        Colleague(row.id, row.name, row.email)
        for row in await session.execute(
            select(users.c.id, users.c.name, users.c.email).where(
                users.c.account_id == account_id, users.c.active
            )
        )
    ]
    return find_mentions(note, colleagues)


async def add_note(
    session: AsyncSession, viewer: Viewer, conversation_id: UUID, body: str, now: datetime
) -> AddedNote:
    if not await conversation_exists(session, viewer.account_id, conversation_id):
        raise ConversationsNotFound([conversation_id])
    body = body.strip()
    mentioned = await mentioned_colleagues(session, viewer.account_id, body)
    actor_name = await session.scalar(select(users.c.name).where(users.c.id == viewer.user_id)) or ""
    note_id = uuid4()
    await session.execute(
        timeline_events.insert().values(
            id=note_id,
            account_id=viewer.account_id,
            conversation_id=conversation_id,
            kind="note",
            actor_user_id=viewer.user_id,
            data={"body": body, "mentioned_user_ids": [str(u) for u in mentioned], "actor_name": actor_name},
            created_at=now,
        )
    )
    event = NoteAdded(
        account_id=viewer.account_id,
        occurred_at=now,
        conversation_ids=[conversation_id],
        note_ids=[note_id],
        actor_user_id=viewer.user_id,
        actor_name=actor_name,
        body=body,
        mentioned_user_ids=mentioned,
    )
    await add_event(session, CONVERSATION_NOTE_ADDED, event, key=event.partition_key)
    return AddedNote(note_id, conversation_id, body, mentioned, actor_name, now)
