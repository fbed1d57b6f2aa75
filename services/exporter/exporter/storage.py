"""Where finished PDFs live. A local folder (the default, and what a volume gives a pod); the
key is the job id, so a link can never name another file."""

import shutil
from pathlib import Path
from uuid import UUID


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self._root = root

    def key_for(self, job_id: UUID) -> str:
        return f"{job_id}.pdf"

    def save(self, job_id: UUID, source: Path) -> str:
        """Moves a rendered file in (atomically: a reader never sees half a file); its key."""
        key = self.key_for(job_id)
        self._root.mkdir(parents=True, exist_ok=True)
        partial = self._root / f".{key}.partial"
        shutil.move(source, partial)
        partial.replace(self._root / key)
        return key

    def path(self, key: str) -> Path | None:
        path = self._root / key
        return path if path.is_file() else None
