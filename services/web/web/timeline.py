"""A conversation's timeline as the pane shows it: opened at its newest page, earlier pages on
demand ("Show earlier"), and what arrived since the person last looked.

Routing pages its timeline oldest first with a cursor; `order=newest` (newest first, the cursor
going back in time) is being added there. We always ask for it and look at the answer's order:
newest first means routing understood. Otherwise we walk the forward pages (bounded) and keep
the last ones; "Show earlier" then carries `before:<id of the oldest item shown>` instead of a
routing cursor, and walks again. When routing has `order=newest`, the walk is never used."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from web.backend import UserApi
from web.i18n import parse_instant

log = structlog.get_logger(__name__)

PAGE_SIZE = 30
# The fallback walk: at most this many items are read to find the newest page.
WALK_PAGE_SIZE = 500
WALK_MAX_PAGES = 20
BEFORE = "before:"


@dataclass(frozen=True)
class TimelineWindow:
    items: list[dict[str, Any]]  # oldest first, as shown
    earlier: str | None  # what "Show earlier" asks for; None at the conversation's start

    @property
    def newest_id(self) -> str:
        return str(self.items[-1]["id"]) if self.items else ""


def position(item: dict[str, Any]) -> tuple[datetime, str]:
    """Routing's own order: time, then id."""
    return parse_instant(item["created_at"]), str(item["id"])  # type: ignore[return-value]


def is_newest_first(items: list[dict[str, Any]]) -> bool:
    return len(items) >= 2 and position(items[0]) > position(items[-1])


def window_before(everything: list[dict[str, Any]], before_id: str | None, size: int) -> TimelineWindow:
    """The `size` items just before `before_id` (the newest ones without it), from the whole
    timeline read oldest first."""
    ids = [str(item["id"]) for item in everything]
    end = ids.index(before_id) if before_id in ids else len(everything)
    start = max(0, end - size)
    earlier = BEFORE + ids[start] if start > 0 else None
    return TimelineWindow(everything[start:end], earlier)


def arrivals_since(items: list[dict[str, Any]], seen_id: str, me: str) -> list[dict[str, Any]]:
    """Messages after the newest item the person saw that they did not write themselves: the
    customer's texts, a colleague's replies, automated texts. Assignments and notes do not
    hold a reply back."""
    ids = [str(item["id"]) for item in items]
    # Not in the window: more than a page arrived since, so all of it is new.
    newer = items[ids.index(seen_id) + 1 :] if seen_id in ids else items
    return [
        item
        for item in newer
        if item["kind"] == "message"
        and item.get("message")
        and (item["message"]["direction"] == "inbound" or str(item["message"].get("sender_user_id")) != me)
    ]


def _path(conversation_id: str) -> str:
    return f"/api/v1/conversations/{conversation_id}/timeline"


async def newest_window(api: UserApi, conversation_id: str, size: int = PAGE_SIZE) -> TimelineWindow:
    path = _path(conversation_id)
    page = await api.get("routing", path, params={"order": "newest", "limit": size})
    items, cursor = page["items"], page.get("next_cursor")
    if cursor is None:  # the whole timeline fits: whichever order, it is complete
        return TimelineWindow(sorted(items, key=position), None)
    if is_newest_first(items):
        return TimelineWindow(items[::-1], cursor)
    return window_before(await _walk(api, conversation_id, items, cursor), None, size)


async def earlier_window(
    api: UserApi, conversation_id: str, token: str, size: int = PAGE_SIZE
) -> TimelineWindow:
    if token.startswith(BEFORE):
        everything = await _walk(api, conversation_id, [], None)
        return window_before(everything, token.removeprefix(BEFORE), size)
    params = {"order": "newest", "limit": size, "cursor": token}
    page = await api.get("routing", _path(conversation_id), params=params)
    return TimelineWindow(page["items"][::-1], page.get("next_cursor"))


async def _walk(
    api: UserApi, conversation_id: str, first: list[dict[str, Any]], cursor: str | None
) -> list[dict[str, Any]]:
    """Oldest first, from the start (or on from `first` and its cursor), bounded."""
    everything = list(first)
    pages = 0
    while (cursor is not None or not everything) and pages < WALK_MAX_PAGES:
        params: dict[str, Any] = {"limit": WALK_PAGE_SIZE}
        if cursor is not None:
            params["cursor"] = cursor
        page = await api.get("routing", _path(conversation_id), params=params)
        everything += page["items"]
        cursor = page.get("next_cursor")
        pages += 1
        if not page["items"]:
            break
    if cursor is not None:
        log.warning("timeline walk stopped early", conversation_id=conversation_id, items=len(everything))
    return everything
