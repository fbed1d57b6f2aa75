"""The envelope every event shares."""

from datetime import UTC, datetime
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field


def utc_now() -> datetime:
    return datetime.now(UTC)


class Contract(BaseModel):
    # Consumers ignore fields they do not know, so producers can add fields without a new major.
    model_config = ConfigDict(extra="ignore", frozen=True)


class Event(Contract):
    event_id: UUID = Field(default_factory=uuid4)
    occurred_at: datetime = Field(default_factory=utc_now)
    account_id: UUID
    schema_version: int = 1

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()


class Attachment(Contract):
    url: str
    content_type: str | None = None
    file_name: str | None = None
