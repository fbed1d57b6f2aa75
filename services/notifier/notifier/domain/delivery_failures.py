"""What a staff member is told when a text they sent could not be delivered: the reason in
words they can act on, not a carrier code."""

from notifier.domain.drafts import NotificationDraft, preview
from notifier.domain.kinds import DELIVERY_FAILED
from shared.contracts.conversation import DeliveryFailed

CATEGORY_WORDS: dict[str, str] = {
    "wrong_number": "the number does not exist or is wrong",
    "landline": "the number is a landline, which cannot receive texts",
    "unreachable": "the phone could not be reached (switched off, out of coverage or cancelled)",
    "opted_out": "the customer has opted out of texts from this number",
    "carrier_filtered": "the carrier filtered the message",
    "rate_limited": "too many messages were sent too quickly; the carrier refused this one",
    "unknown": "the carrier did not say why",
}


def failure_in_words(category: str) -> str:
    return CATEGORY_WORDS.get(category, CATEGORY_WORDS["unknown"])


def drafts_for_delivery_failure(event: DeliveryFailed) -> list[NotificationDraft]:
    """Only a staff member's own message concerns them; automated sends have nobody to tell."""
    if event.sender_user_id is None:
        return []
    customer = event.customer_name or event.customer_phone or "the customer"
    reason = failure_in_words(event.error_category)
    quoted = preview(event.body, 80)
    body = f"Not delivered: {reason}." + (f' Your message: "{quoted}"' if quoted else "")
    return [
        NotificationDraft(
            user_id=event.sender_user_id,
            kind=DELIVERY_FAILED,
            title=f"Your message to {customer} was not delivered",
            body=body,
            data={
                "conversation_id": str(event.conversation_id),
                "message_id": str(event.message_id),
                "error_category": event.error_category,
                "reason": reason,
                "error_code": event.error_code,
            },
        )
    ]
