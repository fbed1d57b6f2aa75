"""What the new assignee (or each member of the new team) is told about an assignment: one
notification per action, however many conversations it moved."""

from notifier.domain.actions import action_key
from notifier.domain.drafts import NotificationDraft, audience
from notifier.domain.kinds import CONVERSATION_ASSIGNED
from shared.contracts.conversation import ConversationsAssigned


def drafts_for_assignment(event: ConversationsAssigned) -> list[NotificationDraft]:
    count = len(event.conversation_ids)
    if count == 0:
        return []
    whom = "you" if event.assignee_user_id else event.assignee_name
    what = "a conversation" if count == 1 else f"{count} conversations"
    title = f"{event.actor_name or 'A colleague'} assigned {what} to {whom}"
    data = {
        "conversation_ids": [str(c) for c in event.conversation_ids],
        "count": count,
        "assignee_user_id": str(event.assignee_user_id) if event.assignee_user_id else None,
        "assignee_team_id": str(event.assignee_team_id) if event.assignee_team_id else None,
        "assignee_name": event.assignee_name,
        "actor_user_id": str(event.actor_user_id),
        "actor_name": event.actor_name,
        "note": event.note,
        "action": action_key(event.actor_user_id, event.occurred_at, event.conversation_ids),
    }
    if count == 1:
        data["conversation_id"] = str(event.conversation_ids[0])
    return [
        NotificationDraft(
            user_id=user, kind=CONVERSATION_ASSIGNED, title=title, body=event.note or "", data=data
        )
        for user in audience(event.notify_user_ids, event.actor_user_id)
    ]
