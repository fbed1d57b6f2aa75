"""notifier's queries on the notifications feed. Every query is scoped by account and user."""

import json
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from notifier.domain.drafts import NotificationDraft

_COLUMNS = "id, user_id, kind, title, body, data, created_at, read_at"
# pg_notify refuses payloads of 8000 bytes or more; a bigger notification (a bulk assignment of
# hundreds of conversations) is announced by id only and streams read it from the table.
_MAX_NOTIFY_PAYLOAD = 7000


# Taken in the keys' (sorted) order, before a row reaches the INSERT below: an uncorrelated
# subquery in WHERE is an InitPlan (or a one-time filter), run once before the first row passes,
# so every lock is held before any id is drawn, and until commit. Sorted keys: no deadlock
# between two transactions locking overlapping sets.
LOCKED_FIRST = (
    " WHERE (SELECT count(pg_advisory_xact_lock(hashtextextended(key, 0)))"
    " FROM unnest(CAST(:keys AS text[])) AS key) >= 0"
)
# One row per in-app draft, ids drawn in the drafts' order; a (event, user) stored before is not.
_STORE = text(
    "INSERT INTO notifier.notifications (account_id, user_id, kind, title, body, data, source_event_id)"
    " SELECT account, recipient, kind, title, body, CAST(data AS jsonb), event FROM unnest("
    "  CAST(:accounts AS uuid[]), CAST(:users AS uuid[]), CAST(:kinds AS text[]), CAST(:titles AS text[]),"
    "  CAST(:bodies AS text[]), CAST(:data AS text[]), CAST(:events AS uuid[])"
    " ) WITH ORDINALITY AS draft(account, recipient, kind, title, body, data, event, position)"
    f"{LOCKED_FIRST} ORDER BY position"
    f" ON CONFLICT DO NOTHING RETURNING source_event_id, {_COLUMNS}"
)
# Each payload to `channel`'s listeners on commit, in the array's order.
NOTIFY_ALL = text(
    "SELECT count(pg_notify(:channel, payload)) FROM unnest(CAST(:payloads AS text[])) AS payload"
)


async def store_notifications(
    session: AsyncSession,
    account_id: UUID,
    source_event_id: UUID,
    drafts: list[NotificationDraft],
    channel: str,
) -> list[dict]:
    """Stores each in-app draft once per (event, user), announces it to live streams on commit,
    and returns the rows stored now (a replayed event stores and returns nothing)."""
    return (await store_notifications_of_events(session, [(account_id, source_event_id, drafts)], channel))[0]


async def store_notifications_of_events(
    session: AsyncSession, events: list[tuple[UUID, UUID, list[NotificationDraft]]], channel: str
) -> list[list[dict]]:
    """`store_notifications` for several events' (account, event id, drafts) at once, in two
    statements whatever their number (lock the feeds and insert, announce): per event, the rows
    stored now."""
    stored: list[list[dict]] = [[] for _ in events]
    in_app = [
        (index, account_id, event_id, draft)
        for index, (account_id, event_id, drafts) in enumerate(events)
        for draft in drafts
        if draft.in_app
    ]
    if not in_app:
        return stored
    # Ids come from one sequence but transactions commit in any order; a stream that sent id
    # 12 would skip an id 11 committed after it. Holding a per-user lock from before the ids are
    # drawn until commit makes one user's notifications commit in id order.
    users = sorted({draft.user_id for _, _, _, draft in in_app})
    rows = await session.execute(
        _STORE,
        {
            "keys": [f"notifier.feed:{user_id}" for user_id in users],
            "accounts": [account_id for _, account_id, _, _ in in_app],
            "users": [draft.user_id for _, _, _, draft in in_app],
            "kinds": [draft.kind for _, _, _, draft in in_app],
            "titles": [draft.title for _, _, _, draft in in_app],
            "bodies": [draft.body for _, _, _, draft in in_app],
            "data": [json.dumps(draft.data) for _, _, _, draft in in_app],
            "events": [event_id for _, _, event_id, _ in in_app],
        },
    )
    new = {(row.source_event_id, row.user_id): row for row in rows}
    announced: list[tuple[int, str]] = []
    for index, _, event_id, draft in in_app:
        row = new.pop((event_id, draft.user_id), None)
        if row is None:  # stored before (a replay), or this user's draft came twice
            continue
        notification = serialize(row._mapping)
        stored[index].append(notification)
        announced.append((notification["id"], announcement(notification)))
    if announced:
        # Delivered by Postgres to every replica's listener when (and only if) this commits, in
        # id order (a stream skips an id below one it has sent).
        await session.execute(
            NOTIFY_ALL, {"channel": channel, "payloads": [payload for _, payload in sorted(announced)]}
        )
    return stored


async def announce_read(session: AsyncSession, channel: str, user_id: UUID, read: dict) -> None:
    """Tells the user's other open streams (other tabs, other devices) what was marked read,
    on commit: `{"ids": [...]}` or `{"up_to_id": n}`."""
    await session.execute(
        text("SELECT pg_notify(:channel, :payload)"),
        {"channel": channel, "payload": json.dumps({"user_id": str(user_id), "read": read})},
    )


def announcement(notification: dict) -> str:
    payload = json.dumps(notification)
    if len(payload.encode()) < _MAX_NOTIFY_PAYLOAD:
        return payload
    return json.dumps({"id": notification["id"], "user_id": notification["user_id"], "fetch": True})


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
    """Oldest first: what a stream missed since `after_id`."""
    rows = await session.execute(
        text(
            f"SELECT {_COLUMNS} FROM notifier.notifications"
            " WHERE account_id = :account AND user_id = :user AND id > :after ORDER BY id LIMIT :limit"
        ),
        {"account": account_id, "user": user_id, "after": after_id, "limit": limit},
    )
    return [serialize(row._mapping) for row in rows]


async def latest_id(session: AsyncSession, account_id: UUID, user_id: UUID) -> int:
    return (
        await session.scalar(
            text(
                "SELECT coalesce(max(id), 0) FROM notifier.notifications"
                " WHERE account_id = :account AND user_id = :user"
            ),
            {"account": account_id, "user": user_id},
        )
    ) or 0


async def feed_page(
    session: AsyncSession,
    account_id: UUID,
    user_id: UUID,
    limit: int,
    before_id: int | None,
    unread_only: bool,
) -> list[dict]:
    """Newest first; `before_id` is the keyset cursor (the last id of the previous page)."""
    rows = await session.execute(
        text(
            f"SELECT {_COLUMNS} FROM notifier.notifications"
            " WHERE account_id = :account AND user_id = :user"
            " AND (CAST(:before AS bigint) IS NULL OR id < :before)"
            " AND (NOT :unread_only OR read_at IS NULL)"
            " ORDER BY id DESC LIMIT :limit"
        ),
        {
            "account": account_id,
            "user": user_id,
            "before": before_id,
            "unread_only": unread_only,
            "limit": limit,
        },
    )
    return [serialize(row._mapping) for row in rows]


async def unread_count(session: AsyncSession, account_id: UUID, user_id: UUID) -> int:
    return (
        await session.scalar(
            text(
                "SELECT count(*) FROM notifier.notifications"
                " WHERE account_id = :account AND user_id = :user AND read_at IS NULL"
            ),
            {"account": account_id, "user": user_id},
        )
    ) or 0


async def unread_position(session: AsyncSession, account_id: UUID, user_id: UUID) -> tuple[int, int]:
    """(the user's unread count, their newest notification id) in one snapshot: a notification
    with a higher id was not counted (one user's notifications commit in id order)."""
    row = (
        await session.execute(
            text(
                "SELECT"
                " (SELECT count(*) FROM notifier.notifications"
                "  WHERE account_id = :account AND user_id = :user AND read_at IS NULL),"
                " (SELECT coalesce(max(id), 0) FROM notifier.notifications"
                "  WHERE account_id = :account AND user_id = :user)"
            ),
            {"account": account_id, "user": user_id},
        )
    ).one()
    return row[0], row[1]


async def mark_read(
    session: AsyncSession, account_id: UUID, user_id: UUID, notification_id: int
) -> dict | None:
    """The notification, read (its first read time is kept); None when it is not the user's."""
    row = (
        await session.execute(
            text(
                "UPDATE notifier.notifications SET read_at = coalesce(read_at, now())"
                " WHERE id = :id AND account_id = :account AND user_id = :user"
                f" RETURNING {_COLUMNS}"
            ),
            {"id": notification_id, "account": account_id, "user": user_id},
        )
    ).first()
    return serialize(row._mapping) if row else None


async def mark_all_read(session: AsyncSession, account_id: UUID, user_id: UUID, up_to_id: int | None) -> int:
    """Marks the user's unread notifications read, up to `up_to_id` when given (so one that
    arrived after the client looked stays unread); how many changed."""
    result = await session.execute(
        text(
            "UPDATE notifier.notifications SET read_at = now()"
            " WHERE account_id = :account AND user_id = :user AND read_at IS NULL"
            " AND (CAST(:up_to AS bigint) IS NULL OR id <= :up_to)"
        ),
        {"account": account_id, "user": user_id, "up_to": up_to_id},
    )
    return result.rowcount or 0


async def told_of_action(
    session: AsyncSession, account_id: UUID, user_ids: list[UUID], kind: str, action: str
) -> set[UUID]:
    """Who among `user_ids` already has a notification of `kind` from the action `action`."""
    if not user_ids:
        return set()
    rows = await session.scalars(
        text(
            "SELECT user_id FROM notifier.notifications"
            " WHERE account_id = :account AND user_id = ANY(:users) AND kind = :kind"
            " AND data->>'action' = :action"
        ),
        {"account": account_id, "users": list(user_ids), "kind": kind, "action": action},
    )
    return set(rows)
