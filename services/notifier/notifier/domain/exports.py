"""What the person who asked for an export is told: by e-mail only, the link or why it failed."""

from datetime import UTC

from notifier.domain.drafts import NotificationDraft
from notifier.domain.kinds import EXPORT_COMPLETED
from shared.contracts.export import ExportCompleted


def drafts_for_export(event: ExportCompleted) -> list[NotificationDraft]:
    ready = event.download_url is not None and event.failed_reason is None
    if ready:
        title = "Your conversation export is ready"
        body = "Download the PDF with the link below" + (
            f" before {event.expires_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC." if event.expires_at else "."
        )
    else:
        title = "Your conversation export failed"
        body = f"The export could not be made: {event.failed_reason or 'no reason was given'}."
    return [
        NotificationDraft(
            user_id=event.requested_by_user_id,
            kind=EXPORT_COMPLETED,
            title=title,
            body=body,
            data={
                "job_id": str(event.job_id),
                "conversation_id": str(event.conversation_id),
                "ready": ready,
                "download_url": event.download_url if ready else None,
                "expires_at": event.expires_at.isoformat() if event.expires_at and ready else None,
                "failed_reason": None if ready else event.failed_reason,
            },
            in_app=False,
        )
    ]
