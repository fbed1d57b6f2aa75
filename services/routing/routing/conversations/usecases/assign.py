"""Assign one, many or every matching conversation to a user or a team, with an optional note
that @mentions colleagues; the timeline keeps who, to whom, when; notifier hears about it."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from routing.conversations.queries import conversations_of, matching
from routing.conversations.usecases.errors import ConversationsNotFound, InvalidAssignee, TooManyConversations
from routing.conversations.usecases.notes import mentioned_colleagues
from routing.conversations.usecases.read_state import refresh_conversations
from routing.domain.inbox import InboxFilter, Viewer
from routing.outbox import add_event
from routing.tables import conversations, team_members, teams, timeline_events, users
from shared.contracts.conversation import ConversationsAssigned, NoteAdded
from shared.contracts.topics import CONVERSATION_ASSIGNED, CONVERSATION_NOTE_ADDED

# A bulk action by filter touches at most this many conversations at once.
MAX_BULK = 10_000


@dataclass(frozen=True)
class Assignee:
    user_id: UUID | None = None
    team_id: UUID | None = None


@dataclass(frozen=True)
class AssignmentResult:
    conversation_ids: list[UUID]
    assignee_user_id: UUID | None
    assignee_team_id: UUID | None
    assignee_name: str
    note_ids: list[UUID]
    mentioned_user_ids: list[UUID]
    notify_user_ids: list[UUID]


async def _resolve_assignee(
    session: AsyncSession, account_id: UUID, assignee: Assignee
) -> tuple[str, list[UUID]]:
    """The assignee's name and who to notify: the user, or every active member of the team."""
    if assignee.user_id is not None:
        name = await session.scalar(
            select(users.c.name).where(
                users.c.id == assignee.user_id, users.c.account_id == account_id, users.c.active
            )
        )
        if name is None:
            raise InvalidAssignee("no active user with this id in your account")
        return name, [assignee.user_id]
    name = await session.scalar(
        select(teams.c.name).where(teams.c.id == assignee.team_id, teams.c.account_id == account_id)
    )
    if name is None:
        raise InvalidAssignee("no team with this id in your account")
    members = await session.scalars(
        select(team_members.c.user_id)
        .join(users, users.c.id == team_members.c.user_id)
        .where(team_members.c.team_id == assignee.team_id, users.c.active)
        .order_by(team_members.c.user_id)
    )
    return name, list(members)


async def _lock_conversations(
    session: AsyncSession, viewer: Viewer, ids: list[UUID] | None, inbox_filter: InboxFilter | None
) -> dict[UUID, tuple[UUID | None, UUID | None]]:
    """The conversations to change with their current assignee, locked in id order (so two bulk
    actions never deadlock); every given id must be one of the account's."""
    c = conversations.c
    query = conversations_of(viewer.account_id).with_only_columns(
        c.id, c.assignee_user_id, c.assignee_team_id
    )
    if ids is not None:
        wanted = list(dict.fromkeys(ids))
        query = query.where(c.id.in_(wanted))
    else:
        assert inbox_filter is not None
        query = matching(viewer, inbox_filter).with_only_columns(c.id, c.assignee_user_id, c.assignee_team_id)
        query = query.limit(MAX_BULK + 1)
    rows = await session.execute(query.order_by(c.id).with_for_update(of=conversations))
    found = {row.id: (row.assignee_user_id, row.assignee_team_id) for row in rows}
    if ids is not None:
        missing = [i for i in wanted if i not in found]
        if missing:
            raise ConversationsNotFound(missing)
        return {i: found[i] for i in wanted}
    if len(found) > MAX_BULK:
        raise TooManyConversations(f"the filter matches more than {MAX_BULK} conversations; narrow it")
    return found


async def assign(
    session: AsyncSession,
    viewer: Viewer,
    *,
    assignee: Assignee,
    conversation_ids: list[UUID] | None = None,
    inbox_filter: InboxFilter | None = None,
    note: str | None = None,
    now: datetime,
) -> AssignmentResult:
    assignee_name, assignees = await _resolve_assignee(session, viewer.account_id, assignee)
    # Whoever assigns knows already, even when they take it themselves or are in the team.
    notify = [user_id for user_id in assignees if user_id != viewer.user_id]
    previous = await _lock_conversations(session, viewer, conversation_ids, inbox_filter)
    ids = list(previous)
    actor_name = await session.scalar(select(users.c.name).where(users.c.id == viewer.user_id)) or ""
    note = (note or "").strip() or None
    mentioned: list[UUID] = []
    if note:
        mentioned = await mentioned_colleagues(session, viewer.account_id, note)

    note_ids: list[UUID] = []
    if ids:
        await session.execute(
            update(conversations)
            .where(conversations.c.account_id == viewer.account_id, conversations.c.id.in_(ids))
            .values(assignee_user_id=assignee.user_id, assignee_team_id=assignee.team_id)
        )
        await refresh_conversations(session, viewer.account_id, ids)
        data = {
            "assignee_user_id": str(assignee.user_id) if assignee.user_id else None,
            "assignee_team_id": str(assignee.team_id) if assignee.team_id else None,
            "assignee_name": assignee_name,
            "actor_name": actor_name,
        }
        rows = [
            {
                "id": uuid4(),
                "account_id": viewer.account_id,
                "conversation_id": conversation_id,
                "kind": "assigned",
                "actor_user_id": viewer.user_id,
                "data": {
                    **data,
                    "previous_assignee_user_id": str(before[0]) if before[0] else None,
                    "previous_assignee_team_id": str(before[1]) if before[1] else None,
                },
                "created_at": now,
            }
            for conversation_id, before in previous.items()
        ]
        if note:
            note_data = {
                "body": note,
                "mentioned_user_ids": [str(u) for u in mentioned],
                "actor_name": actor_name,
            }
            # One microsecond later, so the note always follows its assignment in the timeline.
            note_at = now + timedelta(microseconds=1)
            note_rows = [
                {**row, "id": uuid4(), "kind": "note", "data": note_data, "created_at": note_at}
                for row in rows
            ]
            note_ids = [row["id"] for row in note_rows]
            rows.extend(note_rows)
        await session.execute(timeline_events.insert(), rows)

        await add_event(
            session,
            CONVERSATION_ASSIGNED,
            event := ConversationsAssigned(
                account_id=viewer.account_id,
                occurred_at=now,
                conversation_ids=ids,
                assignee_user_id=assignee.user_id,
                assignee_team_id=assignee.team_id,
                assignee_name=assignee_name,
                actor_user_id=viewer.user_id,
                actor_name=actor_name,
                note=note,
                notify_user_ids=notify,
            ),
            key=event.partition_key,
        )
        if note:
            await add_event(
                session,
                CONVERSATION_NOTE_ADDED,
                note_event := NoteAdded(
                    account_id=viewer.account_id,
                    occurred_at=now,
                    conversation_ids=ids,
                    note_ids=note_ids,
                    actor_user_id=viewer.user_id,
                    actor_name=actor_name,
                    body=note,
                    mentioned_user_ids=mentioned,
                ),
                key=note_event.partition_key,
            )
    return AssignmentResult(
        conversation_ids=ids,
        assignee_user_id=assignee.user_id,
        assignee_team_id=assignee.team_id,
        assignee_name=assignee_name,
        note_ids=note_ids,
        mentioned_user_ids=mentioned,
        notify_user_ids=notify,
    )
