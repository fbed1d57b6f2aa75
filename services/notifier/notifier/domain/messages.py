"""What a staff member is told about a customer's message."""

from uuid import UUID

from notifier.domain.drafts import NotificationDraft, audience, preview
from notifier.domain.kinds import MESSAGE_RECEIVED
from shared.contracts.conversation import MessageReceived

__all__ = ["NotificationDraft", "drafts_for_message", "message_audience"]


def message_audience(event: MessageReceived, unassigned_recipients: list[UUID] | None) -> list[UUID]:
    """Routing's list (assignee, team members, or admins when unassigned), except that an account
    which chose its own recipients for unassigned conversations gets those instead."""
    unassigned = event.assignee_user_id is None and event.assignee_team_id is None
    if unassigned and unassigned_recipients:
        return list(unassigned_recipients)
    return list(event.notify_user_ids)


def drafts_for_message(
    event: MessageReceived,
    actor_user_id: UUID | None = None,
    unassigned_recipients: list[UUID] | None = None,
) -> list[NotificationDraft]:
    sender = event.customer_name or event.customer_phone
    body = preview(event.body)
    if not body and event.attachments:
        body = ", ".join(a.file_name or "attachment" for a in event.attachments)
    return [
        NotificationDraft(
            user_id=user_id,
            kind=MESSAGE_RECEIVED,
            title=f"New message from {sender}",
            body=body,
            data={
                "conversation_id": str(event.conversation_id),
                "message_id": str(event.message_id),
                "customer_id": str(event.customer_id),
            },
        )
        for user_id in audience(message_audience(event, unassigned_recipients), actor_user_id)
    ]
