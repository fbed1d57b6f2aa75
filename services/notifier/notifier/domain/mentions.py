"""What a colleague @mentioned in an internal note is told."""

from notifier.domain.actions import action_key
from notifier.domain.drafts import NotificationDraft, audience, preview
from notifier.domain.kinds import MENTIONED
from shared.contracts.conversation import NoteAdded


def drafts_for_note(event: NoteAdded) -> list[NotificationDraft]:
    count = len(event.conversation_ids)
    where = "a note" if count == 1 else f"a note on {count} conversations"
    data = {
        "conversation_ids": [str(c) for c in event.conversation_ids],
        "note_ids": [str(n) for n in event.note_ids],
        "actor_user_id": str(event.actor_user_id),
        "actor_name": event.actor_name,
        "note": event.body,
        "action": action_key(event.actor_user_id, event.occurred_at, event.conversation_ids),
    }
    if count == 1:
        data["conversation_id"] = str(event.conversation_ids[0])
    return [
        NotificationDraft(
            user_id=user,
            kind=MENTIONED,
            title=f"{event.actor_name or 'A colleague'} mentioned you in {where}",
            body=preview(event.body, 500),
            data=data,
        )
        for user in audience(event.mentioned_user_ids, event.actor_user_id)
    ]
