"""Export jobs: their states and the rules that do not need a database."""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

# `expired`: was done; its link expired and the cleanup deleted the PDF (the row stays, so the
# requester is told why the link is dead).
JobStatus = Literal["queued", "running", "done", "failed", "expired"]
PENDING: tuple[JobStatus, ...] = ("queued", "running")


@dataclass(frozen=True)
class ExportJob:
    id: UUID
    account_id: UUID
    requested_by: UUID
    conversation_id: UUID
    since: datetime | None
    until: datetime | None
    time_zone: str | None
    status: JobStatus
    attempts: int
    file_key: str | None
    pages: int | None
    expires_at: datetime | None
    failed_reason: str | None
    created_at: datetime
    finished_at: datetime | None
    # The run that holds the job while it is `running`, and until when (see repository).
    run_token: UUID | None = None
    running_until: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed", "expired")

    def visible_to(self, user_id: UUID, is_admin: bool) -> bool:
        """The requester, or an admin of the account (the caller's account is checked by the query)."""
        return is_admin or self.requested_by == user_id


def request_key(conversation_id: UUID, since: datetime | None, until: datetime | None) -> str:
    """Equal for equal requests of one requester, whatever offset the instants were written in."""

    def instant(at: datetime | None) -> str:
        return "" if at is None else f"{at.timestamp():.6f}"

    return f"{conversation_id}|{instant(since)}|{instant(until)}"
