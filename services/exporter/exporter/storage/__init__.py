"""Where finished PDFs live, behind one small interface: a local folder (the default, and what a
shared volume gives the pods) or an S3-compatible bucket (`STORAGE_BACKEND=s3`). Either way the
public URL is exporter's own signed link: the object is streamed through exporter after the
signature is checked, so a link means the same (403 altered, 410 expired) whatever holds the
file. A key is derived from the job id, so a link can never name another file."""

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from uuid import UUID


class StorageUnavailable(OSError):
    """The store did not answer or refused (an OSError: the job fails as "could not be stored")."""


@dataclass
class StoredPdf:
    """An open stored file: its size and its bytes, read as they are sent. `close` releases the
    file or connection (safe to call twice)."""

    size: int
    chunks: AsyncIterator[bytes]
    close: Callable[[], Awaitable[None]]


class PdfStore(Protocol):
    async def start(self) -> None:
        """Opens what the store needs (a connection pool) before the first call."""

    async def close(self) -> None: ...

    async def put(self, job_id: UUID, source: Path) -> str:
        """Stores a rendered file, never visible half-written; the key to find it again."""
        ...

    async def open(self, key: str) -> StoredPdf | None:
        """The stored file, or None when there is none under `key`."""
        ...

    async def delete(self, key: str) -> None:
        """Removes the file; a file already gone is not an error (deleting is retried)."""
        ...


def pdf_key(job_id: UUID) -> str:
    return f"{job_id}.pdf"


CHUNK_BYTES = 64 * 1024
