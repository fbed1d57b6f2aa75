"""Rules of outbound texts that need no database: how long a text may be, which sources wait
for the customer's daytime, what each carrier's status words mean in our lifecycle, and the
plain sentence staff read under a text that did not arrive."""

from shared.contracts.messaging import STATUS_RANK, OutboundStatus

# Carriers split longer texts into segments and refuse past about ten of them.
MAX_BODY_LENGTH = 1600

# Automated sources must not text a customer at night; a staff member typing a reply is awake
# and talking with them.
QUIET_HOURS_SOURCES = frozenset({"automation", "campaign"})

FAILURE_STATUSES: frozenset[str] = frozenset({"undelivered", "failed"})

# What each carrier calls the steps of a message's life, in our words. Twilio's `read` (RCS /
# WhatsApp) is at least delivered, and so is `partially_delivered` (some parts of a long text
# arrived: the customer has something to read); `canceled` means it never left. Telnyx's words
# are the eight of its `to[].status`; `expired` is a text the carrier gave up on before the
# handset took it (its validity period ran out), so it did not arrive.
CARRIER_STATUSES: dict[str, dict[str, OutboundStatus]] = {
    "twilio": {
        "accepted": "queued",
        "queued": "queued",
        "scheduled": "scheduled",
        "sending": "sending",
        "sent": "sent",
        "delivered": "delivered",
        "read": "delivered",
        "partially_delivered": "delivered",
        "undelivered": "undelivered",
        "failed": "failed",
        "canceled": "failed",
    },
    "telnyx": {
        "queued": "queued",
        "sending": "sending",
        "sent": "sent",
        "delivered": "delivered",
        "sending_failed": "failed",
        "delivery_failed": "undelivered",
        "expired": "undelivered",
        # The carrier took it but the handset never confirmed: all we know is that it left.
        "delivery_unconfirmed": "sent",
    },
}

ERROR_TEXTS: dict[str, str] = {
    "wrong_number": "The number is not in service or does not exist. Check the customer's number.",
    "landline": "The number is a landline and cannot receive texts.",
    "unreachable": "The number is cancelled or the phone cannot be reached right now.",
    "opted_out": "The customer opted out of texts from this number (they replied STOP).",
    "carrier_filtered": "The customer's carrier blocked this text, often because it looked like spam.",
    "rate_limited": "Too many texts were sent too fast; the carrier refused this one.",
    "unknown": "The carrier could not deliver this text and did not say why.",
}


class UnknownCarrierStatus(ValueError):
    """A status word this table does not know (a carrier added one). The receipt is not thrown
    away: the message keeps its status and the word is noted on it (messaging/usecases/outbound_status.py)."""


def unknown_status_note(carrier: str, status: str) -> str:
    """What staff and support read on a message whose receipt we could not interpret."""
    return f"{carrier} reported a status we do not know: {status.strip()[:100]!r}"


def status_from_carrier(carrier: str, status: str) -> OutboundStatus:
    """The lifecycle status for a carrier's status word (case-insensitive)."""
    mapped = CARRIER_STATUSES.get(carrier, {}).get(status.strip().lower())
    if mapped is None:
        raise UnknownCarrierStatus(f"{carrier} status {status!r} is not one we know")
    return mapped


def moves_forward(current: str, new: str) -> bool:
    """Statuses only climb; outcomes (delivered / undelivered / failed) share the top rank, so
    the first one recorded stays."""
    return STATUS_RANK.get(current, -1) < STATUS_RANK[new]


def error_text(category: str | None, status: str) -> str | None:
    """The sentence staff read under a message that did not arrive; None while it may still."""
    if status not in FAILURE_STATUSES:
        return None
    return ERROR_TEXTS.get(category or "unknown", ERROR_TEXTS["unknown"])


def respects_quiet_hours(source_kind: str) -> bool:
    return source_kind in QUIET_HOURS_SOURCES


def introduced(body: str, replier_name: str, dealership_name: str | None) -> str:
    """A reply in a colleague's conversation, as the customer reads it: they have been texting
    the assignee, so the text says who is writing now ("Lou from Maple Honda: ...")."""
    first_name = (replier_name.split() or ["A colleague"])[0]
    dealership = (dealership_name or "").strip()
    who = f"{first_name} from {dealership}" if dealership else first_name
    return f"{who}: {body}"
