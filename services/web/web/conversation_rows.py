"""One list row's HTML (partials/conversation_rows.html calls it for each row).

Written here rather than in the template because the list is the page's hot path: 50 rows, a few
times a second while texts arrive, each row ~25 values. Jinja escapes and joins each value on its
own (~20 µs a row); here every value an API gave (names, the preview, ids, times) is escaped once
by `text` (markupsafe's rules, as a plain string) and the row joined in one string (~5 µs a
row). The labels are worked out once per list, in the person's language. Typed text stays text:
`test_conversation_rows.py` checks markup in every field a person or a customer can type.

What a row shows (the help article): the customer's name (or phone), the last activity's time,
the last message's first words, the assignee, the red dot and highlight when unread and assigned
to me, the orange highlight and badge when unanswered too long, the admin's eye when the
assignee has not read it, a Closed / Archived badge."""

from collections.abc import Hashable, Iterable, Mapping
from typing import Any

import orjson
from markupsafe import Markup

from web import i18n
from web.rendering import gettext


def text(value: Any) -> str:
    """`value` as HTML text, exactly as markupsafe's `escape` writes it (the test compares them),
    as a plain string: a `Markup` costs a new object per value and per formatting (~0.8 µs
    against ~0.15 µs, a list escapes ~400 values)."""
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return (
        str(value)
        .replace("&", "&amp;")
        .replace(">", "&gt;")
        .replace("<", "&lt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )


class KeptRows(dict):
    """Rows' HTML by what makes them: the writer's settings, the assignee's name and the row as
    routing sent it (its JSON bytes). A live list asks routing for its rows again after every
    change in the dealership, and most of them come back as they were: ~0.5 µs to look one up
    against ~4 µs to write it. All are dropped at once past `most` (~1.7 KB a row with its key)."""

    def __init__(self, most: int) -> None:
        super().__init__()
        self.most = most

    def keep(self, key: Hashable, html: Markup) -> None:
        if len(self) >= self.most:
            self.clear()
        self[key] = html


class RowWriter:
    """Rows of one list, for one person, in the current language (made while the list renders)."""

    def __init__(
        self,
        *,
        is_admin: bool,
        users: Mapping[str, Any],
        teams: Mapping[str, Any],
        list_query: str,
        selected: str | None,
        kept: KeptRows,
    ) -> None:
        self.is_admin = is_admin
        self.kept = kept
        self.users = users
        self.teams = teams
        self.selected = selected
        # The list's own query string, kept by the row's link (`&` written as `&amp;`).
        self.query = text(list_query)
        self.today = i18n.today_here()
        self.unknown_customer = str(gettext("Unknown customer"))
        self.unassigned = str(gettext("Unassigned"))
        self.overdue = str(gettext("Unanswered"))
        self.unread = str(gettext("Unread, assigned to you"))
        self.not_read = str(gettext("Not read yet by the assignee"))
        self.statuses = {"closed": str(gettext("Closed")), "archived": str(gettext("Archived"))}
        # "Select %(name)s" split around the name once; the name is escaped per row.
        select = gettext("Select %(name)s", name=Markup("\0"))
        self.select_before, _, self.select_after = str(select).partition("\0")
        here = i18n.current.get()
        # Everything a row's HTML depends on but the row and its assignee's name (`KeptRows`).
        self.settings = (is_admin, self.query, selected, self.today, here.locale, here.time_zone)

    def all(self, rows: Iterable[Mapping[str, Any]]) -> Markup:
        """Every row, one per line (one call from the template rather than one per row)."""
        return Markup("\n".join([self(row) for row in rows]))  # noqa: S704 (rows of escaped text)

    def __call__(self, row: Mapping[str, Any]) -> Markup:
        assignee = self.assignee_of(row)
        key = (self.settings, assignee, orjson.dumps(row))
        html = self.kept.get(key)
        if html is None:
            html = self.write(row, assignee)
            self.kept.keep(key, html)
        return html

    def write(self, row: Mapping[str, Any], assignee: str | None) -> Markup:
        ident = text(row["id"])
        name = row.get("customer_name") or row.get("customer_phone")
        who = text(name) if name else self.unknown_customer
        selected = row["id"] == self.selected
        if row.get("unread_for_me"):
            highlight = " unread-mine"
        elif row.get("overdue"):
            highlight = " overdue"
        else:
            highlight = ""
        link = f"/conversations/{ident}?{self.query}"
        current = ' aria-current="true"' if selected else ""
        instant = row.get("last_activity_at") or ""
        parts = [
            f'<li class="row{highlight}{" selected" if selected else ""}" data-conversation="{ident}">\n'
            f'<input type="checkbox" class="row-check" name="conversation_ids" value="{ident}"'
            f' aria-label="{self.select_before}{who}{self.select_after}">\n'
            f'<a class="row-link" href="{link}" hx-get="{link}" hx-target="#conversation-pane"'
            f' hx-push-url="true"{current}>',
        ]
        if row.get("unread_for_me"):
            parts.append(f'<span class="dot" role="img" aria-label="{self.unread}"></span>')
        parts.append(
            f'<span class="row-name">{who}</span> <time class="row-time" datetime="{text(instant)}"'
            f' title="{text(i18n.format_when(instant))}">'
            f"{text(i18n.format_short_time(instant, today=self.today))}</time>"
            f' <span class="row-preview">{text(row.get("last_message_preview") or "")}</span>'
            ' <span class="row-meta">'
        )
        if assignee:
            parts.append(f'<span class="assignee">{text(assignee)}</span>')
        else:
            parts.append(f'<span class="assignee muted">{self.unassigned}</span>')
        if row.get("overdue"):
            parts.append(f' <span class="badge overdue-badge">{self.overdue}</span>')
        if self.is_admin and row.get("assignee_has_not_read"):
            parts.append(
                f' <span class="eye" role="img" aria-label="{self.not_read}" title="{self.not_read}"></span>'
            )
        status = row.get("status", "open")
        if status != "open":
            parts.append(f' <span class="badge">{self.statuses.get(status) or text(status)}</span>')
        parts.append("</span></a>\n</li>")
        # Every value above was escaped (or is our own catalogue's text): the row is markup.
        return Markup("".join(parts))  # noqa: S704

    def assignee_of(self, row: Mapping[str, Any]) -> str | None:
        user = self.users.get(row.get("assignee_user_id"))
        if user is not None:
            return user["name"]
        team = self.teams.get(row.get("assignee_team_id"))
        return None if team is None else team["name"]
