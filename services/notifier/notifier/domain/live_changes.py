"""What the account's open pages are told of each conversation event: one small change per
conversation it touches (a bulk assignment or note of N conversations is N changes), never the
content itself. The page fetches what it shows; a change only says which conversation to fetch
again and why.

`user_id` is the person who made the change (the actor), or whose read mark it is."""

from dataclasses import dataclass
from uuid import UUID

from shared.contracts.base import Event
from shared.contracts.conversation import (
    ConversationReadChanged,
    ConversationsAssigned,
    ConversationStatusChanged,
    DeliveryFailed,
    MessageReceived,
    MessageSent,
    MessageStatusChanged,
    NoteAdded,
)
from shared.contracts.customer import ConversationMerged

MESSAGE_RECEIVED = "message_received"
MESSAGE_SENT = "message_sent"
MESSAGE_STATUS = "message_status"
DELIVERY_FAILED = "delivery_failed"
ASSIGNED = "assigned"
NOTE_ADDED = "note_added"
STATUS_CHANGED = "status_changed"
MERGED = "merged"
READ = "read"
UNREAD = "unread"
CHANGES = (
    MESSAGE_RECEIVED,
    MESSAGE_SENT,
    MESSAGE_STATUS,
    DELIVERY_FAILED,
    ASSIGNED,
    NOTE_ADDED,
    STATUS_CHANGED,
    MERGED,
    READ,
    UNREAD,
)


@dataclass(frozen=True)
class LiveChange:
    conversation_id: UUID
    data: dict


def live_changes(event: Event) -> list[LiveChange]:
    match event:
        case MessageReceived():
            return [_change(event, event.conversation_id, MESSAGE_RECEIVED, message_id=event.message_id)]
        case MessageSent():
            return [
                _change(
                    event,
                    event.conversation_id,
                    MESSAGE_SENT,
                    message_id=event.message_id,
                    status="queued",
                    user_id=event.sender_user_id,
                )
            ]
        case MessageStatusChanged():
            return [
                _change(
                    event,
                    event.conversation_id,
                    MESSAGE_STATUS,
                    message_id=event.message_id,
                    status=event.status,
                )
            ]
        case DeliveryFailed():
            return [
                _change(
                    event,
                    event.conversation_id,
                    DELIVERY_FAILED,
                    message_id=event.message_id,
                    status=event.status,
                    user_id=event.sender_user_id,
                )
            ]
        case ConversationsAssigned():
            return [
                _change(event, conversation_id, ASSIGNED, user_id=event.actor_user_id)
                for conversation_id in _unique(event.conversation_ids)
            ]
        case NoteAdded():
            return [
                _change(event, conversation_id, NOTE_ADDED, user_id=event.actor_user_id)
                for conversation_id in _unique(event.conversation_ids)
            ]
        case ConversationStatusChanged():
            return [
                _change(
                    event,
                    event.conversation_id,
                    STATUS_CHANGED,
                    status=event.status,
                    user_id=event.actor_user_id,
                )
            ]
        case ConversationMerged():
            touched = [
                event.surviving_conversation_id,
                event.archived_conversation_id,
                *event.moved_conversation_ids,
            ]
            return [_change(event, conversation_id, MERGED) for conversation_id in _unique(touched)]
        case ConversationReadChanged():
            change = READ if event.read else UNREAD
            return [_change(event, event.conversation_id, change, user_id=event.user_id)]
    return []


def _change(event: Event, conversation_id: UUID, change: str, **extra: object) -> LiveChange:
    data: dict = {"conversation_id": str(conversation_id), "change": change}
    data.update({key: str(value) for key, value in extra.items() if value is not None})
    data["occurred_at"] = event.occurred_at.isoformat()
    return LiveChange(conversation_id, data)


def _unique(ids: list[UUID | None]) -> list[UUID]:
    return list(dict.fromkeys(i for i in ids if i is not None))
