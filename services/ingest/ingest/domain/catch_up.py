"""Catch-up's rules, as plain code: what a text listed by a carrier's API becomes, which
statuses are final, when a number is listed next and from when.

A listed text becomes the same `carrier.inbound.v1` a webhook would have made, with one
difference: `received_at` is the carrier's own time for it (when the customer sent it), so a
text recovered minutes late takes its place in the conversation where it was sent."""

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from uuid import UUID

from shared.carriers import error_codes
from shared.contracts.base import Attachment
from shared.contracts.carrier import CarrierInbound, CarrierStatus

# The statuses after which a carrier reports nothing more about a text we sent. Telnyx's
# `delivery_unconfirmed` is its last word too (routing records it as sent).
FINAL_STATUSES: dict[str, frozenset[str]] = {
    "twilio": frozenset({"delivered", "undelivered", "failed", "read", "canceled", "partially_delivered"}),
    "telnyx": frozenset(
        {"delivered", "delivery_failed", "sending_failed", "expired", "delivery_unconfirmed"}
    ),
}


@dataclass(frozen=True)
class ListedText:
    """A customer's text as a carrier's API lists it."""

    carrier: str
    message_id: str
    from_number: str
    to_number: str
    body: str
    sent_at: datetime
    media: list[tuple[str, str | None]] = field(default_factory=list)  # (url, content type)
    raw: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FetchedStatus:
    """Where a text we sent stands, as the carrier's API tells it."""

    carrier: str
    message_id: str
    status: str
    error_code: str | None = None
    error_message: str | None = None
    raw: dict[str, str] = field(default_factory=dict)

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES.get(self.carrier, frozenset())


def in_send_order(texts: list[ListedText], listed_newest_first: bool) -> list[ListedText]:
    """Oldest first. Twilio's times have whole seconds only, so texts of one second keep the
    carrier's own order and are a microsecond apart: the conversation shows them as sent."""
    ordered = sorted(reversed(texts) if listed_newest_first else texts, key=lambda t: t.sent_at)
    result: list[ListedText] = []
    for listed in ordered:
        if result and listed.sent_at <= result[-1].sent_at:
            listed = replace(listed, sent_at=result[-1].sent_at + timedelta(microseconds=1))
        result.append(listed)
    return result


def inbound_event(text: ListedText, account_id: UUID) -> CarrierInbound:
    attachments = [
        Attachment(
            url=url, content_type=content_type, file_name=url.split("?", 1)[0].rsplit("/", 1)[-1] or None
        )
        for url, content_type in text.media
    ]
    return CarrierInbound(
        account_id=account_id,
        carrier=text.carrier,  # type: ignore[arg-type]
        carrier_message_id=text.message_id,
        from_number=text.from_number,
        to_number=text.to_number,
        body=text.body,
        attachments=attachments,
        received_at=text.sent_at,
        raw={**text.raw, "switchboard_source": "catch_up"},
    )


def status_event(fetched: FetchedStatus, account_id: UUID, now: datetime) -> CarrierStatus:
    return CarrierStatus(
        account_id=account_id,
        occurred_at=now,
        carrier=fetched.carrier,  # type: ignore[arg-type]
        carrier_message_id=fetched.message_id,
        status=fetched.status,
        error_code=fetched.error_code,
        error_message=fetched.error_message,
        error_category=error_codes.category_for(fetched.carrier, fetched.error_code),
        raw={**fetched.raw, "switchboard_source": "catch_up"},
    )


def final_dedupe_keys(carrier: str, message_id: str) -> list[str]:
    """The webhook dedupe keys (`<id>:<status>`) of every final status of a text: any one of them
    claimed means its final status already went out."""
    return [f"{message_id}:{status}" for status in sorted(FINAL_STATUSES.get(carrier, ()))]


def listing_start(
    checkpoint: datetime | None, now: datetime, overlap_seconds: float, initial_lookback_seconds: float
) -> datetime:
    if checkpoint is None:
        return now - timedelta(seconds=initial_lookback_seconds)
    return checkpoint - timedelta(seconds=overlap_seconds)


def backoff_seconds(failures: int, initial: float, maximum: float, retry_after: float | None = None) -> float:
    """The wait before the next attempt after `failures` failures in a row (1 = the first):
    doubling from `initial` to `maximum`, never shorter than the carrier's Retry-After."""
    wait = min(maximum, initial * 2 ** max(0, failures - 1))
    return max(wait, retry_after or 0.0)
