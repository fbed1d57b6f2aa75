"""May staff text the customer of a conversation, from which number to which, and if not, why
(in words a service advisor understands). The composer shows this before anyone types, and
sending asks it again before storing a message. Internal notes are never blocked."""

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Literal

from routing.domain.reachability import Blocked, PhoneOnFile, sendable_phone

ComposerReason = Literal[
    "no_mobile_number", "landline", "opted_out", "archived", "no_dealership_number", "dealership_suspended"
]

REASON_MESSAGES: dict[ComposerReason, str] = {
    "no_mobile_number": "This customer has no mobile number on file, so they cannot be texted. "
    "Add one to their profile, or leave an internal note.",
    "landline": "This customer's number is a landline and cannot receive texts. "
    "Add a mobile number to their profile, or leave an internal note.",
    "opted_out": "This customer opted out of texts from this dealership number (they replied STOP). "
    "They can text START to receive messages again; internal notes still work.",
    "archived": "This conversation is archived (its customer profile was merged into another one). "
    "Write in the customer's active conversation instead.",
    "no_dealership_number": "Your dealership has no phone number to text from yet. "
    "An administrator can add one in the settings.",
    "dealership_suspended": "Your dealership's access to Switchboard is suspended: no text can be sent "
    "until it is resumed. Texts from customers are still received.",
}

_FROM_PHONE_REASONS: dict[str, ComposerReason] = {
    "no_phone_number": "no_mobile_number",
    "landline": "landline",
    "opted_out": "opted_out",
}


@dataclass(frozen=True)
class ComposerState:
    can_send: bool
    reason: ComposerReason | None
    message: str | None
    to_number: str | None
    from_number: str | None

    @classmethod
    def blocked(
        cls, reason: ComposerReason, to_number: str | None = None, from_number: str | None = None
    ) -> "ComposerState":
        return cls(False, reason, REASON_MESSAGES[reason], to_number, from_number)


def composer_state(
    conversation_status: str,
    phones: Iterable[PhoneOnFile],
    opted_out_e164s: Collection[str],
    from_number: str | None,
    preferred_e164: str | None = None,
    suspended: bool = False,
) -> ComposerState:
    """`phones` are the customer's numbers in the order they should be tried; `opted_out_e164s`
    the ones that opted out of texts from `from_number` (the conversation's dealership number);
    `preferred_e164` the number the customer last wrote from, texted first when it can be;
    `suspended`: the operator suspended the dealership, which sends nothing until resumed."""
    if suspended:
        return ComposerState.blocked("dealership_suspended", from_number=from_number)
    if conversation_status == "archived":
        return ComposerState.blocked("archived", from_number=from_number)
    if from_number is None:
        return ComposerState.blocked("no_dealership_number")
    choice = sendable_phone(phones, opted_out_e164s, preferred_e164)
    if isinstance(choice, Blocked):
        return ComposerState.blocked(_FROM_PHONE_REASONS[choice.reason], from_number=from_number)
    return ComposerState(True, None, None, choice.e164, from_number)
