"""The open conversation's rules that need no browser: paging the timeline back from its newest
item (with and without routing's `order=newest`), what counts as "arrived since you looked",
@mention suggestions, and the export dialog's date range."""

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from web.mentions import mention_handle, mention_query, suggestions
from web.pages.conversation import ExportRangeError, export_range
from web.timeline import BEFORE, arrivals_since, earlier_window, is_newest_first, newest_window, window_before

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ME = "00000000-0000-4000-8000-0000000000aa"


def item(n: int, kind: str = "note", **message: Any) -> dict[str, Any]:
    return {
        "id": f"00000000-0000-4000-8000-{n:012d}",
        "kind": kind,
        "created_at": (START + timedelta(minutes=n)).isoformat(),
        "message": message or None,
    }


class OldestFirstRouting:
    """Routing as it is today: `order` is ignored, pages go forward with a cursor."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items
        self.calls = 0

    async def get(self, _service: str, _path: str, params: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        start = int(params.get("cursor") or 0)
        end = start + int(params["limit"])
        return {"items": self.items[start:end], "next_cursor": str(end) if end < len(self.items) else None}


class NewestFirstRouting(OldestFirstRouting):
    async def get(self, _service: str, _path: str, params: dict[str, Any]) -> dict[str, Any]:
        assert params["order"] == "newest"
        self.calls += 1
        newest_first = self.items[::-1]
        start = int(params.get("cursor") or 0)
        end = start + int(params["limit"])
        cursor = str(end) if end < len(newest_first) else None
        return {"items": newest_first[start:end], "next_cursor": cursor}


@pytest.mark.parametrize("routing", [OldestFirstRouting, NewestFirstRouting])
async def test_the_timeline_opens_at_its_newest_page_and_pages_back_to_the_start(routing) -> None:
    items = [item(n) for n in range(1, 71)]
    api = routing(items)
    window = await newest_window(api, "c", size=30)  # type: ignore[arg-type]
    assert [i["id"] for i in window.items] == [i["id"] for i in items[40:]]
    assert window.newest_id == items[-1]["id"]
    shown = window.items
    while window.earlier:
        window = await earlier_window(api, "c", window.earlier, size=30)  # type: ignore[arg-type]
        shown = window.items + shown
    assert shown == items


async def test_a_short_timeline_is_whole_whatever_the_order() -> None:
    items = [item(n) for n in range(1, 4)]
    window = await newest_window(NewestFirstRouting(items), "c")  # type: ignore[arg-type]
    assert window.items == items and window.earlier is None


def test_order_is_read_from_the_answer() -> None:
    assert is_newest_first([item(3), item(2), item(1)])
    assert not is_newest_first([item(1), item(2)])
    assert not is_newest_first([item(1)])


def test_window_before_an_item() -> None:
    everything = [item(n) for n in range(1, 11)]
    window = window_before(everything, everything[5]["id"], 3)
    assert window.items == everything[2:5]
    assert window.earlier == BEFORE + everything[2]["id"]
    assert window_before(everything, everything[2]["id"], 3).earlier is None


def test_only_messages_someone_else_wrote_hold_a_reply_back() -> None:
    seen = item(1, "message", direction="inbound")
    mine = item(2, "message", direction="outbound", sender_user_id=ME)
    note = item(3)
    assert arrivals_since([seen, mine, note], seen["id"], ME) == []
    customer = item(4, "message", direction="inbound")
    colleague = item(5, "message", direction="outbound", sender_user_id="someone-else")
    timeline = [seen, mine, note, customer, colleague]
    assert arrivals_since(timeline, seen["id"], ME) == [customer, colleague]
    # What the person saw is no longer in the newest page: all of it is new.
    assert arrivals_since([customer], "gone", ME) == [customer]


USERS = [
    {"id": ME, "name": "Alex Admin", "email": "alex@d.test", "active": True},
    {"id": "2", "name": "Kim Lee", "email": "kim@d.test", "active": True},
    {"id": "3", "name": "Kim Lee", "email": "kim.lee2@d.test", "active": True},
    {"id": "4", "name": "Kip Old", "email": "kip@d.test", "active": False},
    {"id": "5", "name": "Sam Agent", "email": "agent@d.test", "active": True},
]


def test_the_mention_being_typed() -> None:
    assert mention_query("Call them @ki") == "ki"
    assert mention_query("@") == ""
    assert mention_query("write to kim@dealer") is None  # an e-mail address, not a mention
    assert mention_query("@kim done") is None


def test_suggestions_offer_a_handle_routing_understands() -> None:
    found = suggestions("ki", USERS, ME)
    assert [u["handle"] for u in found] == ["@kim", "@kim.lee2"]  # namesakes: their e-mail
    assert [u["handle"] for u in suggestions("age", USERS, ME)] == ["@Sam Agent"]
    assert suggestions("alex", USERS, ME) == []  # not myself
    assert mention_handle(USERS[4], USERS) == "@Sam Agent"


def test_export_range_covers_whole_days_in_the_dealership_time_zone() -> None:
    zone = ZoneInfo("America/Toronto")
    assert export_range("all", "2026-01-01", "", zone) == (None, None)
    since, until = export_range("dates", "2026-01-10", "2026-01-12", zone)
    assert since == "2026-01-10T00:00:00-05:00"
    assert until == "2026-01-12T23:59:59.999999-05:00"
    assert export_range("dates", "", "2026-07-01", zone) == (None, "2026-07-01T23:59:59.999999-04:00")
    for since_text, until_text, code in [
        ("", "", "no_dates"),
        ("2026-13-01", "", "invalid_date"),
        ("2026-02-01", "2026-01-01", "wrong_order"),
    ]:
        with pytest.raises(ExportRangeError) as problem:
            export_range("dates", since_text, until_text, zone)
        assert problem.value.code == code
