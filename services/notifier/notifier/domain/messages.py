"""What a staff member is told about a customer's message."""

from dataclasses import dataclass
from uuid import UUID

from shared.contracts.conversation import MessageReceived


@dataclass(frozen=True)
class NotificationDraft:
    user_id: UUID
    kind: str
    title: str
    body: str
    data: dict


def drafts_for_message(event: MessageReceived, actor_user_id: UUID | None = None) -> list[NotificationDraft]:
    sender = event.customer_name or event.customer_phone
    preview = event.body if len(event.body) <= 140 else event.body[:139] + "…"
    if not preview and event.attachments:
        preview = ", ".join(a.file_name or "attachment" for a in event.attachments)
    recipients = dict.fromkeys(u for u in event.notify_user_ids if u != actor_user_id)
    return [
        NotificationDraft(
            user_id=user_id,
            kind="message_received",
            title=f"New message from {sender}",
            body=preview,
            data={
                "conversation_id": str(event.conversation_id),
                "message_id": str(event.message_id),
                "customer_id": str(event.customer_id),
            },
        )
        for user_id in recipients
    ]
