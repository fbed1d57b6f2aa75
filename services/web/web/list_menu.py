"""The list's view menu items (partials/conversation_list.html): my name, every user and every
team, Unassigned, All, each a link with its count.

Written here rather than in the template for the reason rows are (conversation_rows.py): the list
renders on every live refresh, and a dealership's menu has a few dozen choices; each value is
escaped once (user and team names are typed by people)."""

from collections.abc import Iterable, Mapping
from typing import Any

from markupsafe import Markup

from web import i18n
from web.conversation_rows import text
from web.pages.inbox_state import InboxState
from web.rendering import gettext


def view_menu_items(views: Iterable[Mapping[str, Any]], state: InboxState, keep: bool) -> Markup:
    """One `<li>` per choice; the current view is marked; `keep` (a live refresh) keeps the
    numbers shown until the new ones arrive (hx-preserve)."""
    team, everyone, unassigned = str(gettext("Team")), str(gettext("All")), str(gettext("Unassigned"))
    preserve = " hx-preserve" if keep else ""
    items = []
    for index, choice in enumerate(views):
        kind = choice["kind"]
        if kind == "unassigned":
            name = unassigned
        elif kind == "all":
            name = everyone
        elif kind == "team":
            name = f"{team} {text(choice['name'])}"
        else:
            name = text(choice["name"])
        href = text("/conversations?" + state.query(view=choice["key"]))
        separated = ' class="separated"' if index == 1 or kind == "unassigned" else ""
        current = ' aria-current="true"' if choice["key"] == state.view else ""
        count = "" if choice["count"] is None else text(i18n.format_number(choice["count"]))
        items.append(
            f'<li{separated}><a href="{href}" hx-get="{href}" hx-target="#conversation-list"'
            f' hx-push-url="true"{current}><span>{name}</span> <span class="count"'
            f' id="{text(choice["count_id"])}"{preserve}>{count}</span></a></li>'
        )
    # Every value above was escaped (or is our own catalogue's text).
    return Markup("\n".join(items))  # noqa: S704
