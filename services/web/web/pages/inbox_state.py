"""What the inbox shows, as the URL says it (view, status, read filters): back, reload and a
shared link show the same list. Anything the URL says that routing would refuse falls back to
the default instead of an error page."""

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

    def query(self, **changes: object) -> str:
        """This state's query string, with `changes` applied (`read` toggles one filter)."""
        view = str(changes.get("view", self.view))
        status = str(changes.get("status", self.status))
        read = list(self.read)
        toggled = changes.get("toggle_read")
        if toggled:
            read = [r for r in read if r != toggled] if toggled in read else [*read, str(toggled)]
        pairs: list[tuple[str, str]] = [("view", view), ("status", status)]
        pairs += [("read", r) for r in READ_FILTERS if r in read]
        return urlencode(pairs)

    def filter_body(self) -> dict:
        """The same choice as routing's `InboxFilterBody`, for "every conversation that matches"."""
        return {"view": self.view, "status": self.status, "read": list(self.read)}
