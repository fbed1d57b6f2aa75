"""One staff action can produce several events: an assignment with a note is a
`conversation.assigned.v1` and a `conversation.note_added.v1`, written together by routing with
the same actor, time and conversations. Their common key lets the notifier tell an assignee who
is also @mentioned in the note once, not twice."""

from collections.abc import Iterable
from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from notifier.domain.drafts import NotificationDraft


def action_key(actor_user_id: UUID, occurred_at: datetime, conversation_ids: Iterable[UUID]) -> str:
    ids = ",".join(sorted(str(c) for c in conversation_ids))
    return str(uuid5(NAMESPACE_URL, f"switchboard:action:{actor_user_id}:{occurred_at.isoformat()}:{ids}"))


def not_yet_told(drafts: list[NotificationDraft], already_told: set[UUID]) -> list[NotificationDraft]:
    """The drafts for people the same action has not reached yet."""
    return [draft for draft in drafts if draft.user_id not in already_told]
