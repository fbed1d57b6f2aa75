"""A notification before it is stored: who is told what."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from uuid import UUID


@dataclass(frozen=True)
class NotificationDraft:
    user_id: UUID
    kind: str
    title: str
    body: str
    data: dict = field(default_factory=dict)
    # False for what only goes by e-mail (an export's download link).
    in_app: bool = True


def audience(candidates: Iterable[UUID], actor_user_id: UUID | None) -> list[UUID]:
    """Each candidate once, in order, never the person whose action this is."""
    return [user for user in dict.fromkeys(candidates) if user != actor_user_id]


def preview(text: str, limit: int = 140) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
