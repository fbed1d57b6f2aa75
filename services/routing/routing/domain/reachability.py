"""Can a conversation text this customer, and on which number? The composer asks this before
letting staff type, and sending asks it again before storing a message: a customer is texted on
a mobile number (or one whose kind is unknown, as every North American number is until someone
says otherwise), never on a landline, never on a number that opted out."""

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

from routing.domain.phones import PhoneKind

BlockedReason = Literal["no_phone_number", "landline", "opted_out"]

BLOCKED_MESSAGES: dict[BlockedReason, str] = {
    "no_phone_number": "the customer has no phone number on file",
    "landline": "the customer's only numbers are landlines, which cannot receive texts",
    "opted_out": "every number that could be texted has opted out of texts",
}

# Preference order among numbers that can receive texts.
_PREFERENCE: dict[PhoneKind, int] = {"mobile": 0, "unknown": 1}


class PhoneOnFile(Protocol):
    e164: str
    kind: PhoneKind


@dataclass(frozen=True)
class Phone:
    """A plain PhoneOnFile, for callers that have no row at hand."""

    e164: str
    kind: PhoneKind


@dataclass(frozen=True)
class Sendable:
    e164: str
    kind: PhoneKind


@dataclass(frozen=True)
class Blocked:
    reason: BlockedReason

    @property
    def message(self) -> str:
        return BLOCKED_MESSAGES[self.reason]


def sendable_phone(
    phones: Iterable[PhoneOnFile],
    opted_out_e164s: Collection[str],
    preferred_e164: str | None = None,
) -> Sendable | Blocked:
    """The number to text: `preferred_e164` (say, the number the customer last wrote from) when it
    can receive texts, else the first mobile, else the first number of unknown kind, in the order
    given. Landlines and opted-out numbers are never chosen. When none fits, why not:
    `opted_out` when some number could have been texted but opted out, `landline` when every
    number is a landline, `no_phone_number` when there is none."""
    phones = list(phones)
    if not phones:
        return Blocked("no_phone_number")
    textable = [p for p in phones if p.kind in _PREFERENCE]
    if not textable:
        return Blocked("landline")
    candidates = [p for p in textable if p.e164 not in opted_out_e164s]
    if not candidates:
        return Blocked("opted_out")
    for phone in candidates:
        if phone.e164 == preferred_e164:
            return Sendable(phone.e164, phone.kind)
    best = min(candidates, key=lambda p: _PREFERENCE[p.kind])  # min is stable: first of its kind
    return Sendable(best.e164, best.kind)
