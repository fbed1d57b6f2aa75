"""What the inbox shows, as the URL says it (view, status, read filters): back, reload and a
shared link show the same list. Anything the URL says that routing would refuse falls back to
the default instead of an error page."""

import functools
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from fastapi import Request

VIEW = re.compile(r"^(mine|all|unassigned|user:[0-9a-fA-F-]{36}|team:[0-9a-fA-F-]{36})$")
STATUSES = ("open", "closed", "all", "archived")
READ_FILTERS = ("read", "unread", "unanswered")


@dataclass(frozen=True)
class InboxState:
    view: str = "mine"
    status: str = "open"
    read: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def of(cls, request: Request) -> "InboxState":
        params = request.query_params
        view = params.get("view", "mine")
        status = params.get("status", "open")
        read = tuple(dict.fromkeys(r for r in params.getlist("read") if r in READ_FILTERS))
        return cls(
            view=view if VIEW.match(view) else "mine",
            status=status if status in STATUSES else "open",
            read=read,
        )

    def api_params(self) -> list[tuple[str, str]]:
        return [("view", self.view), ("status", self.status), *(("read", r) for r in self.read)]

    def query(
        self, view: str | None = None, status: str | None = None, toggle_read: str | None = None
    ) -> str:
        """This state's query string, with changes applied (`toggle_read` toggles one filter).
        A list asks for ~40 of them (every menu choice's link), the same ones on every refresh."""
        return _query(self.view, self.status, self.read, view, status, toggle_read)

    def filter_body(self) -> dict:
        """The same choice as routing's `InboxFilterBody`, for "every conversation that matches"."""
        return {"view": self.view, "status": self.status, "read": list(self.read)}


@functools.lru_cache(maxsize=4096)
def _query(
    current_view: str,
    current_status: str,
    current_read: tuple[str, ...],
    view: str | None,
    status: str | None,
    toggled: str | None,
) -> str:
    view = current_view if view is None else view
    status = current_status if status is None else status
    read = list(current_read)
    if toggled:
        read = [r for r in read if r != toggled] if toggled in read else [*read, str(toggled)]
    pairs: list[tuple[str, str]] = [("view", view), ("status", status)]
    pairs += [("read", r) for r in READ_FILTERS if r in read]
    return urlencode(pairs)
