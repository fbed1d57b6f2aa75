"""The menus' numbers summed from the grouped counts (one pass over the account's conversations)
follow the same rules as the list's filters: each dimension counted with the other two as asked."""

from uuid import uuid4

from routing.conversations.counts import CountGroup, tally_counts
from routing.domain.inbox import InboxFilter, View, Viewer

ME, SAM = uuid4(), uuid4()
SERVICE, PARTS = uuid4(), uuid4()
VIEWER = Viewer(uuid4(), ME, is_admin=True, team_ids=frozenset([SERVICE]))

GROUPS = [
    # status, user, team, read, unanswered, n
    CountGroup("open", ME, None, False, True, 3),
    CountGroup("open", ME, None, True, False, 4),
    CountGroup("open", SAM, None, False, False, 5),
    CountGroup("open", None, SERVICE, False, True, 6),
    CountGroup("open", None, PARTS, True, True, 7),
    CountGroup("open", None, None, False, True, 8),
    CountGroup("closed", ME, None, True, False, 10),
    CountGroup("closed", None, None, True, False, 20),
    CountGroup("archived", SAM, None, True, False, 100),
]


def test_open_conversations_of_every_view() -> None:
    counts = tally_counts(GROUPS, VIEWER, InboxFilter(View("all"), "open"))
    assert counts["current"] == 33
    assert counts["views"] == {
        "mine": 3 + 4 + 6,  # mine, and my team's
        "all": 33,
        "unassigned": 8,
        "users": {str(ME): 7, str(SAM): 5},
        "teams": {str(SERVICE): 6, str(PARTS): 7},
    }
    # Archived conversations are asked for by name; "all" is open and closed.
    assert counts["status"] == {"open": 33, "closed": 30, "archived": 100, "all": 63}
    assert counts["read"] == {"read": 4 + 7, "unread": 3 + 5 + 6 + 8, "unanswered": 3 + 6 + 7 + 8}


def test_several_read_filters_are_a_union_and_narrow_every_other_menu() -> None:
    chosen = InboxFilter(View("mine"), "all", frozenset(["read", "unanswered"]))
    counts = tally_counts(GROUPS, VIEWER, chosen)
    # Mine, open or closed, read or unanswered: 3 (unanswered) + 4 (read) + 6 (team, unanswered) + 10.
    assert counts["current"] == 23
    assert counts["views"]["all"] == 3 + 4 + 6 + 7 + 8 + 10 + 20
    assert counts["views"]["unassigned"] == 8 + 20
    assert counts["status"] == {"open": 13, "closed": 10, "archived": 0, "all": 23}
    # Each read choice alone, within mine and open-or-closed.
    assert counts["read"] == {"read": 14, "unread": 9, "unanswered": 9}


def test_a_user_view_and_a_team_view() -> None:
    assert tally_counts(GROUPS, VIEWER, InboxFilter(View("user", SAM), "open"))["current"] == 5
    assert tally_counts(GROUPS, VIEWER, InboxFilter(View("team", PARTS), "open"))["current"] == 7
    assert tally_counts(GROUPS, VIEWER, InboxFilter(View("unassigned"), "closed"))["current"] == 20
