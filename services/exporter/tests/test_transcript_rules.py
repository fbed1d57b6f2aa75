"""The transcript's wording and the period rules, without rendering."""

from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid4

from exporter.domain.glyphs import printable
from exporter.domain.jobs import request_key
from exporter.domain.transcript import (
    Period,
    attachment_name,
    entry_from_item,
    period_label,
    time_zone_or_utc,
)

TORONTO = time_zone_or_utc("America/Toronto")


def _message(direction: str, **message) -> dict:
    return {
        "kind": "message",
        "created_at": "2026-11-25T15:30:00+00:00",
        "actor_name": message.pop("actor", None),
        "message": {"direction": direction, "body": "Hello", "attachments": [], **message},
    }


def test_inbound_message_is_from_the_customer_at_local_time():
    entry = entry_from_item(_message("inbound"), TORONTO)
    assert (entry.at, entry.direction, entry.sender, entry.source) == (
        "2026-11-25 10:30",
        "Inbound",
        "Customer",
        "SMS",
    )


def test_outbound_message_names_the_staff_member_or_the_automated_source():
    staff = entry_from_item(_message("outbound", actor="Sam Agent", source_kind="manual"), TORONTO)
    robot = entry_from_item(_message("outbound", source_kind="appointment"), TORONTO)
    assert (staff.sender, staff.source) == ("Sam Agent", "Staff reply")
    assert (robot.sender, robot.source) == ("Appointment", "Appointment")


def test_undelivered_message_says_why():
    entry = entry_from_item(
        _message("outbound", actor="Sam", status="undelivered", error_category="wrong_number"), TORONTO
    )
    assert entry.delivery == "Not delivered: wrong number"


def test_notes_are_internal_and_events_are_sentences():
    note = entry_from_item(
        {"kind": "note", "created_at": "2026-11-25T15:00:00Z", "actor_name": "Kim", "data": {"body": "VIP"}},
        TORONTO,
    )
    assigned = entry_from_item(
        {
            "kind": "assigned",
            "created_at": "2026-11-25T15:00:00Z",
            "actor_name": "Alex",
            "data": {"assignee_name": "Service"},
        },
        TORONTO,
    )
    auto_closed = entry_from_item(
        {"kind": "closed", "created_at": "2026-11-25T15:00:00Z", "actor_name": None, "data": {}}, TORONTO
    )
    assert (note.kind, note.sender, note.text) == ("note", "Kim", "VIP")
    assert (assigned.kind, assigned.text) == ("event", "Assigned to Service by Alex")
    assert auto_closed.text == "Closed automatically"
    assert entry_from_item({"kind": "something_new", "created_at": "2026-11-25T15:00:00Z"}, TORONTO) is None


def test_attachment_name_falls_back_to_the_url_path_never_fetching_it():
    assert attachment_name({"url": "https://x.test/a/b", "file_name": "invoice.pdf"}) == "invoice.pdf"
    assert attachment_name({"url": "https://x.test/media/photo%20front.jpg?sig=1"}) == "photo front.jpg"
    assert attachment_name({"url": ""}) == "attachment"


def test_period_bounds_are_inclusive_and_stop_reading_after_the_end():
    since, until = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC)
    period = Period(since, until)
    assert period.contains(since) and period.contains(until)
    assert not period.contains(since - timedelta(seconds=1))
    assert period.is_over(until + timedelta(microseconds=1)) and not period.is_over(until)
    assert Period().contains(since) and not Period().is_over(until)


def test_period_label_in_the_account_zone():
    exported = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # still the 24th in Toronto
    first = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert period_label(Period(), first, exported, TORONTO) == "2026-03-01 to 2026-11-24"
    assert period_label(Period(), None, exported, TORONTO) == "the beginning to 2026-11-24"


def test_unknown_time_zone_falls_back_to_utc():
    assert time_zone_or_utc("Mars/Olympus").key == "UTC"
    assert time_zone_or_utc(None).key == "UTC"


def test_characters_the_font_lacks_fall_back_to_names_or_a_replacement():
    covered = {ord(c) for c in "Bonjour élève ?[]abcdefghijklmnopqrstuvwxyz \ufffd"}
    assert printable("Bonjour élève", covered) == "Bonjour élève"
    assert printable("Bonjour 🚗", covered) == "Bonjour [automobile]"
    assert printable("👍🏽", covered) == "[thumbs up sign]"  # the skin tone goes with it
    assert printable("你好", covered) == "\ufffd\ufffd"
    assert printable("🚗", None) == "🚗"


def test_the_same_range_in_other_offsets_is_the_same_request():
    conversation = uuid4()
    utc = datetime(2026, 11, 1, 5, 0, tzinfo=UTC)
    toronto = utc.astimezone(timezone(timedelta(hours=-5)))
    assert request_key(conversation, utc, None) == request_key(conversation, toronto, None)
    assert request_key(conversation, utc, None) != request_key(conversation, None, utc)
    assert request_key(conversation, None, None) != request_key(uuid4(), None, None)
