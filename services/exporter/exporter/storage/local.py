"""PDFs in a local folder, one file per job. Every replica serving links must see the same folder
(a ReadWriteMany volume in Kubernetes). File work runs in threads: a move across filesystems is a
copy, and none of it may hold up the event loop."""

import asyncio
import os
import shutil
from pathlib import Path
from uuid import UUID

from exporter.storage import CHUNK_BYTES, StoredPdf, pdf_key


class LocalPdfStore:
    def __init__(self, root: Path) -> None:
        self._root = root

    async def start(self) -> None:
        await asyncio.to_thread(self._root.mkdir, parents=True, exist_ok=True)

    async def close(self) -> None:
        pass

    async def put(self, job_id: UUID, source: Path) -> str:
        return await asyncio.to_thread(self._move_in, pdf_key(job_id), source)

    def _move_in(self, key: str, source: Path) -> str:
        """Moved in under a hidden name, then renamed: a reader never sees half a file."""
        self._root.mkdir(parents=True, exist_ok=True)
        partial = self._root / f".{key}.partial"
        shutil.move(source, partial)
        partial.replace(self._root / key)
        return key

    async def open(self, key: str) -> StoredPdf | None:
        path = self._path(key)
        if path is None:
            return None
        try:
            stream = await asyncio.to_thread(path.open, "rb")
        except (FileNotFoundError, IsADirectoryError):
            return None
        # Open, the file stays readable even if the cleanup deletes it meanwhile.
        size = os.fstat(stream.fileno()).st_size

        async def chunks():
            while chunk := await asyncio.to_thread(stream.read, CHUNK_BYTES):
                yield chunk

        async def close() -> None:
            await asyncio.to_thread(stream.close)

        return StoredPdf(size, chunks(), close)

    async def delete(self, key: str) -> None:
        path = self._path(key)
        if path is not None:
            await asyncio.to_thread(path.unlink, missing_ok=True)

    def _path(self, key: str) -> Path | None:
        """None for a key no file of this folder can have: one that would leave the folder (keys
        come from our own rows, but still), or an object key from a time on S3 (no such file)."""
        if not key or "/" in key or "\\" in key or key.startswith("."):
            return None
        return self._root / key
