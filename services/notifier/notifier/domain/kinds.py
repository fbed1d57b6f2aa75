"""The kinds of notification, and which of them also go by e-mail unless a user says otherwise."""

MESSAGE_RECEIVED = "message_received"
CONVERSATION_ASSIGNED = "conversation_assigned"
MENTIONED = "mentioned"
DELIVERY_FAILED = "delivery_failed"
EXPORT_COMPLETED = "export_completed"

KINDS: tuple[str, ...] = (
    MESSAGE_RECEIVED,
    CONVERSATION_ASSIGNED,
    MENTIONED,
    DELIVERY_FAILED,
    EXPORT_COMPLETED,
)

# An export's link is only ever delivered by e-mail: turning that off would mean never getting it.
EMAIL_ONLY: frozenset[str] = frozenset({EXPORT_COMPLETED})
EMAIL_DEFAULTS: dict[str, bool] = {kind: kind in EMAIL_ONLY for kind in KINDS}


def email_choices(stored: dict[str, bool]) -> dict[str, bool]:
    """A user's choice per kind: what they stored over the defaults; e-mail-only kinds stay on."""
    choices = {kind: stored.get(kind, default) for kind, default in EMAIL_DEFAULTS.items()}
    return {kind: True if kind in EMAIL_ONLY else wanted for kind, wanted in choices.items()}


def goes_by_email(kind: str, stored: dict[str, bool]) -> bool:
    return email_choices(stored).get(kind, False)
