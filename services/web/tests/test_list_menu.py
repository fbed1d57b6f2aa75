"""The view menu's items as list_menu.py writes them: every user and team as a link that keeps
the list's other filters, the current view marked, counts by locale, typed names as text."""

from collections.abc import Iterator

import pytest

from web import i18n
from web.list_menu import view_menu_items
from web.pages.inbox_state import InboxState

USER = "00000000-0000-0000-0000-0000000000a1"
TEAM = "00000000-0000-0000-0000-0000000000b1"


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    yield from speaking("en")


def speaking(locale: str) -> Iterator[None]:
    catalogues = i18n.load_catalogues()
    token = i18n.current.set(i18n.Localization(locale, catalogues[locale], i18n.time_zone("UTC")))
    try:
        yield
    finally:
        i18n.current.reset(token)


def choices(user_name: str = "Marie", team_name: str = "Service", counted: bool = True) -> list[dict]:
    def count(n: int) -> int | None:
        return n if counted else None

    return [
        {"key": "mine", "kind": "me", "name": "Luc", "count": count(3), "count_id": "count-view-mine"},
        {"key": f"user:{USER}", "kind": "user", "name": user_name, "count": count(1234),
         "count_id": f"count-view-user-{USER}"},
        {"key": f"team:{TEAM}", "kind": "team", "name": team_name, "count": count(0),
         "count_id": f"count-view-team-{TEAM}"},
        {"key": "unassigned", "kind": "unassigned", "name": "", "count": count(7),
         "count_id": "count-view-unassigned"},
        {"key": "all", "kind": "all", "name": "", "count": count(100000), "count_id": "count-view-all"},
    ]  # fmt: skip


def test_each_choice_is_a_link_keeping_the_other_filters() -> None:
    state = InboxState(view="mine", status="closed", read=("unread",))
    items = str(view_menu_items(choices(), state, keep=False)).split("\n")
    assert len(items) == 5
    assert items[0].startswith('<li><a href="/conversations?view=mine&amp;status=closed&amp;read=unread"')
    assert ' aria-current="true"' in items[0] and "aria-current" not in "".join(items[1:])
    assert items[1].startswith('<li class="separated">') and items[3].startswith('<li class="separated">')
    assert (
        f"view=user%3A{USER}&amp;status=closed" in items[1]
        or f"view=user:{USER}&amp;status=closed" in items[1]
    )
    assert "<span>Marie</span>" in items[1] and "<span>Team Service</span>" in items[2]
    assert "<span>Unassigned</span>" in items[3] and "<span>All</span>" in items[4]
    assert f'<span class="count" id="count-view-user-{USER}">1,234</span>' in items[1]
    assert '<span class="count" id="count-view-all">100,000</span>' in items[4]
    assert "hx-preserve" not in "".join(items)


def test_before_the_counts_arrive_the_numbers_are_empty_and_a_refresh_keeps_them() -> None:
    items = str(view_menu_items(choices(counted=False), InboxState(view="all"), keep=True))
    assert '<span class="count" id="count-view-mine" hx-preserve></span>' in items
    assert items.count("hx-preserve") == 5


def test_typed_user_and_team_names_are_text() -> None:
    items = str(view_menu_items(choices("<b>Bold</b> & 'Co'", '<i>"x"</i>'), InboxState(), keep=False))
    assert "<b>" not in items and "<i>" not in items
    assert "<span>&lt;b&gt;Bold&lt;/b&gt; &amp; &#39;Co&#39;</span>" in items
    assert "<span>Team &lt;i&gt;&#34;x&#34;&lt;/i&gt;</span>" in items


def test_the_menu_speaks_canadian_french() -> None:
    for _ in speaking("fr_CA"):
        items = str(view_menu_items(choices(), InboxState(), keep=False))
        assert "<span>Team Service</span>" not in items and "<span>All</span>" not in items
        assert "\u00a0" in items or "\u202f" in items  # 100 000: French groups digits with a space
