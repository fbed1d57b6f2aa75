"""The inbox rules staff see as colours and icons, as plain functions of a conversation's state.

- *read*: a conversation's latest inbound message was read by whoever owns it: the assigned
  user; for a team, any member; when nobody is assigned, any staff member. A conversation
  without inbound messages has nothing to read.
- *unread for me* (red highlight): it is mine (assigned to me or to a team I am in) and unread.
- *assignee has not read* (the admin's eye icon): assigned, and the assignee (for a team: every
  member) has not read the latest inbound message. Only admins see it.
- *unanswered*: the latest inbound message has no outbound message after it.
- *overdue* (orange highlight): unanswered for longer than the account's threshold.
- the row's *preview*: the start of the conversation's latest message, inbound or outbound
  (internal notes are not messages and never show there).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal
from uuid import UUID

# --- what the inbox shows: a view, filters, and who looks -------------------------------------

Status = Literal["open", "closed", "archived", "all"]
ReadFilter = Literal["read", "unread", "unanswered"]
STATUSES: tuple[Status, ...] = ("open", "closed", "archived", "all")
READ_FILTERS: tuple[ReadFilter, ...] = ("read", "unread", "unanswered")


class InvalidView(ValueError):
    pass


@dataclass(frozen=True)
class View:
    """`mine` (assigned to me or to a team I am in), `all`, `unassigned` (no user and no team),
    `user:<id>` or `team:<id>`."""

    kind: Literal["mine", "all", "unassigned", "user", "team"]
    id: UUID | None = None

    @classmethod
    def parse(cls, raw: str) -> "View":
        if raw in ("mine", "all", "unassigned"):
            return cls(raw)
        kind, _, value = raw.partition(":")
        if kind in ("user", "team"):
            try:
                return cls(kind, UUID(value))  # type: ignore[arg-type]
            except ValueError:
                pass
        raise InvalidView(f"unknown view {raw!r}; use mine, all, unassigned, user:<uuid> or team:<uuid>")

    def __str__(self) -> str:
        return self.kind if self.id is None else f"{self.kind}:{self.id}"


@dataclass(frozen=True)
class Viewer:
    account_id: UUID
    user_id: UUID
    is_admin: bool
    team_ids: frozenset[UUID] = field(default_factory=frozenset)


@dataclass(frozen=True)
class InboxFilter:
    view: View = View("all")
    status: Status = "open"
    read: frozenset[ReadFilter] = frozenset()


# --- the flags of a row -----------------------------------------------------------------------

PREVIEW_LENGTH = 120


def message_preview(body: str | None) -> str:
    """What the inbox row shows of a message: the first PREVIEW_LENGTH characters of its body."""
    return (body or "")[:PREVIEW_LENGTH]


def is_read(last_inbound_at: datetime | None, owner_read_at: datetime | None) -> bool:
    """`owner_read_at` is the furthest read position among the people who own the conversation."""
    if last_inbound_at is None:
        return True
    return owner_read_at is not None and owner_read_at >= last_inbound_at


def is_unanswered(last_inbound_at: datetime | None, last_outbound_at: datetime | None) -> bool:
    if last_inbound_at is None:
        return False
    return last_outbound_at is None or last_outbound_at < last_inbound_at


def is_overdue(
    last_inbound_at: datetime | None,
    last_outbound_at: datetime | None,
    now: datetime,
    unanswered_after_hours: int,
) -> bool:
    if not is_unanswered(last_inbound_at, last_outbound_at):
        return False
    assert last_inbound_at is not None
    return now - last_inbound_at > timedelta(hours=unanswered_after_hours)


@dataclass(frozen=True)
class Assignment:
    user_id: UUID | None
    team_id: UUID | None

    @property
    def assigned(self) -> bool:
        return self.user_id is not None or self.team_id is not None


def is_mine(assignment: Assignment, me: UUID, my_team_ids: frozenset[UUID]) -> bool:
    return assignment.user_id == me or (assignment.team_id is not None and assignment.team_id in my_team_ids)


def unread_for_me(
    assignment: Assignment,
    me: UUID,
    my_team_ids: frozenset[UUID],
    last_inbound_at: datetime | None,
    owner_read_at: datetime | None,
) -> bool:
    return is_mine(assignment, me, my_team_ids) and not is_read(last_inbound_at, owner_read_at)


def assignee_has_not_read(
    viewer_is_admin: bool,
    assignment: Assignment,
    last_inbound_at: datetime | None,
    owner_read_at: datetime | None,
) -> bool | None:
    """None for agents (they do not see the icon); False when nobody is assigned."""
    if not viewer_is_admin:
        return None
    if not assignment.assigned:
        return False
    return not is_read(last_inbound_at, owner_read_at)
