"""What a transcript shows, in the dealership's words: routing's timeline items (plain dicts, as
its API answers them) become lines of a transcript in the account's time zone. No I/O here."""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

EntryKind = Literal["message", "note", "event"]

SOURCE_LABELS = {
    "manual": "Staff reply",
    "automation": "Automation",
    "campaign": "Campaign",
    "appointment": "Appointment",
}
DATE_FORMAT = "%Y-%m-%d"
TIME_FORMAT = "%Y-%m-%d %H:%M"


@dataclass(frozen=True)
class Period:
    """The range asked for; either end open. Both ends are inclusive."""

    since: datetime | None = None
    until: datetime | None = None

    def contains(self, at: datetime) -> bool:
        return (self.since is None or at >= self.since) and (self.until is None or at <= self.until)

    def is_over(self, at: datetime) -> bool:
        """Nothing at or after `at` can be in the period (the timeline is oldest first)."""
        return self.until is not None and at > self.until


@dataclass(frozen=True)
class TranscriptHeader:
    dealership: str | None
    customer: str
    customer_phone: str | None
    conversation_status: str | None
    period: str
    time_zone: str
    exported_at: str


@dataclass(frozen=True)
class TranscriptEntry:
    kind: EntryKind
    at: str
    text: str
    direction: str | None = None
    sender: str | None = None
    source: str | None = None
    attachments: tuple[str, ...] = ()
    delivery: str | None = None


def time_zone_or_utc(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def parse_time(value: str | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def customer_label(name: str | None, phone: str | None) -> str:
    return name or phone or "Unknown customer"


def period_label(period: Period, first: datetime | None, exported_at: datetime, zone: ZoneInfo) -> str:
    """ "2026-03-01 to 2026-11-25": the range asked for, or from the first line shown to the export."""
    start = period.since or first
    end = period.until or exported_at
    start_text = start.astimezone(zone).strftime(DATE_FORMAT) if start else "the beginning"
    return f"{start_text} to {end.astimezone(zone).strftime(DATE_FORMAT)}"


def attachment_name(attachment: dict) -> str:
    """The file name as sent; without one, the last part of the URL (never fetched)."""
    name = attachment.get("file_name")
    if name:
        return name
    path = urlsplit(attachment.get("url") or "").path
    return unquote(path.rsplit("/", 1)[-1]) or "attachment"


def entry_from_item(item: dict, zone: ZoneInfo) -> TranscriptEntry | None:
    """One line of the transcript for a timeline item; None for kinds a transcript leaves out."""
    at = parse_time(item["created_at"]).astimezone(zone).strftime(TIME_FORMAT)
    actor = item.get("actor_name")
    data = item.get("data") or {}
    kind = item["kind"]
    if kind == "message":
        return _message_entry(item.get("message") or {}, actor, at)
    if kind == "note":
        return TranscriptEntry("note", at, data.get("body") or "", sender=actor or "Staff")
    sentence = _event_sentence(kind, actor, data)
    return TranscriptEntry("event", at, sentence) if sentence else None


def _message_entry(message: dict, actor: str | None, at: str) -> TranscriptEntry:
    inbound = message.get("direction") == "inbound"
    source_kind = message.get("source_kind") or "manual"
    if inbound:
        sender, source = "Customer", "SMS"
    else:
        source = SOURCE_LABELS.get(source_kind, source_kind.replace("_", " ").capitalize())
        sender = actor or source
    delivery = None
    if message.get("status") in ("failed", "undelivered"):
        category = (message.get("error_category") or "unknown").replace("_", " ")
        delivery = f"Not delivered: {category}"
    return TranscriptEntry(
        "message",
        at,
        message.get("body") or "",
        direction="Inbound" if inbound else "Outbound",
        sender=sender,
        source=source,
        attachments=tuple(attachment_name(a) for a in message.get("attachments") or ()),
        delivery=delivery,
    )


def _event_sentence(kind: str, actor: str | None, data: dict) -> str | None:
    by = f" by {actor}" if actor else ""
    if kind == "assigned":
        return f"Assigned to {data.get('assignee_name') or 'someone'}{by}"
    if kind == "closed":
        return f"Closed{by}" if actor else "Closed automatically"
    if kind == "reopened":
        return f"Reopened{by}" if actor else "Reopened by a new message"
    if kind == "archived":
        return f"Archived{by}"
    if kind == "merged":
        return f"Customer profiles merged{by}"
    return None
