"""Conversation exports: asked for by staff, rendered by `exporter`, e-mailed by `notifier`."""

from datetime import datetime
from uuid import UUID

from shared.contracts.base import Event


class ExportRequested(Event):
    job_id: UUID
    conversation_id: UUID
    requested_by_user_id: UUID
    since: datetime | None = None
    until: datetime | None = None

    @property
    def partition_key(self) -> str:
        return str(self.job_id)


class ExportCompleted(Event):
    job_id: UUID
    conversation_id: UUID
    requested_by_user_id: UUID
    download_url: str | None = None
    expires_at: datetime | None = None
    failed_reason: str | None = None

    @property
    def partition_key(self) -> str:
        return str(self.job_id)
