"""notifier's queries."""

import json
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from notifier.domain.messages import NotificationDraft

_COLUMNS = "id, user_id, kind, title, body, data, created_at, read_at"


async def store_notifications(
    session: AsyncSession,
    account_id: UUID,
    source_event_id: UUID,
    drafts: list[NotificationDraft],
    channel: str,
) -> int:
    """Stores each draft once per event and user, and announces it to live streams on commit."""
    stored = 0
    for draft in drafts:
        row = (
            await session.execute(
                text(
                    "INSERT INTO notifier.notifications"
                    " (account_id, user_id, kind, title, body, data, source_event_id)"
                    " VALUES (:account, :user, :kind, :title, :body, CAST(:data AS jsonb), :event)"
                    f" ON CONFLICT DO NOTHING RETURNING {_COLUMNS}"
                ),
                {
                    "account": account_id,
                    "user": draft.user_id,
                    "kind": draft.kind,
                    "title": draft.title,
                    "body": draft.body,
                    "data": json.dumps(draft.data),
                    "event": source_event_id,
                },
            )
        ).first()
        if row is None:
            continue
        stored += 1
        # Delivered by Postgres to every replica's listener when (and only if) this commits.
        await session.execute(
            text("SELECT pg_notify(:channel, :payload)"),
            {"channel": channel, "payload": json.dumps(serialize(row._mapping))},
        )
    return stored


def serialize(row) -> dict:
    return {
        "id": row["id"],
        "user_id": str(row["user_id"]),
        "kind": row["kind"],
        "title": row["title"],
        "body": row["body"],
        "data": row["data"],
        "created_at": row["created_at"].isoformat(),
        "read_at": row["read_at"].isoformat() if row["read_at"] else None,
    }


async def notifications_after(
    session: AsyncSession, account_id: UUID, user_id: UUID, after_id: int, limit: int = 1000
) -> list[dict]:
    rows = await session.execute(
        text(
            f"SELECT {_COLUMNS} FROM notifier.notifications"
            " WHERE account_id = :account AND user_id = :user AND id > :after ORDER BY id LIMIT :limit"
        ),
        {"account": account_id, "user": user_id, "after": after_id, "limit": limit},
    )
    return [serialize(row._mapping) for row in rows]


async def latest_notifications(
    session: AsyncSession, account_id: UUID, user_id: UUID, limit: int
) -> list[dict]:
    rows = await session.execute(
        text(
            f"SELECT {_COLUMNS} FROM notifier.notifications"
            " WHERE account_id = :account AND user_id = :user ORDER BY id DESC LIMIT :limit"
        ),
        {"account": account_id, "user": user_id, "limit": limit},
    )
    return [serialize(row._mapping) for row in rows]
