"""The account-wide live feed's table: conversation changes kept for a retention window so a
reconnecting page resumes from its Last-Event-ID, then pruned. Every query is scoped by account."""

import json
from datetime import timedelta
from uuid import UUID

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from notifier.domain.live_changes import LiveChange
from notifier.repository import LOCKED_FIRST

# Only one replica prunes at a time; the others skip that round.
_PRUNE_LOCK = "notifier.live_prune"


# Lock the accounts, insert, and announce each change stored now, in id order, on commit: one
# statement. The announcement is `{"account_id": ..., "live": {"id": ..., **data}}` with the data's
# keys as jsonb gives them back (what `_serialize` makes of the row); pg_notify runs above the sort
# (a volatile output is computed after ORDER BY), so in id order.
_STORE_AND_ANNOUNCE_NAMED = (
    "WITH stored AS ("
    " INSERT INTO notifier.live_events (account_id, source_event_id, conversation_id, data)"
    " SELECT account, event, conversation, CAST(data AS jsonb) FROM unnest("
    "  CAST(:accounts AS uuid[]), CAST(:events AS uuid[]), CAST(:conversations AS uuid[]),"
    "  CAST(:data AS text[])"
    " ) WITH ORDINALITY AS change(account, event, conversation, data, position)"
    f"{LOCKED_FIRST} ORDER BY position"
    " ON CONFLICT DO NOTHING RETURNING id, account_id, source_event_id, conversation_id, data)"
    " SELECT id, source_event_id, conversation_id, pg_notify(CAST(:channel AS text),"
    '  \'{"account_id": "\' || account_id || \'", "live": {"id": \' || id'
    "  || CASE WHEN data = '{}' THEN '}' ELSE ', ' || substr(CAST(data AS text), 2) END || '}') AS announced"
    " FROM stored ORDER BY id"
)
_PARAMETERS = ("keys", "accounts", "events", "conversations", "data", "channel")


def _numbered(statement: str, names: tuple[str, ...]) -> str:
    """`statement` with asyncpg's `$1, $2...` for its `:name` parameters (LOCKED_FIRST is written
    for SQLAlchemy's `text()`, shared with the notifications' statements)."""
    for number, name in enumerate(names, 1):
        statement = statement.replace(f":{name} ", f"${number} ")
    return statement


# On the consumer's pooled asyncpg connection: no SQLAlchemy round on the way (issue 17).
_STORE_AND_ANNOUNCE = _numbered(_STORE_AND_ANNOUNCE_NAMED, _PARAMETERS)


async def store_changes_on(
    connection: asyncpg.Connection, events: list[tuple[UUID, UUID, list[LiveChange]]], channel: str
) -> list[list[dict]]:
    """Stores each of several events' (account, event id, changes) once per (event,
    conversation), in the caller's transaction, and announces each stored now to every replica's
    streams on commit, in one statement whatever their number (lock the accounts, insert,
    announce): per event, the rows stored now (a redelivered event stores nothing)."""
    changes = _changes(events)
    if not changes:
        return [[] for _ in events]
    parameters = {**_parameters(changes), "channel": channel}
    rows = await connection.fetch(_STORE_AND_ANNOUNCE, *(parameters[name] for name in _PARAMETERS))
    return _stored(events, changes, rows)


def _changes(events: list[tuple[UUID, UUID, list[LiveChange]]]) -> list[tuple[int, UUID, UUID, LiveChange]]:
    return [
        (index, account_id, event_id, change)
        for index, (account_id, event_id, event_changes) in enumerate(events)
        for change in event_changes
    ]


def _parameters(changes: list[tuple[int, UUID, UUID, LiveChange]]) -> dict:
    # Ids come from one sequence but transactions commit in any order; a stream that sent id 12
    # would skip an id 11 committed after it. Locking the accounts (sorted: no deadlock) from
    # before the ids are drawn until commit makes one account's changes commit in id order.
    accounts = sorted({account_id for _, account_id, _, _ in changes})
    return {
        "keys": [f"notifier.live:{account_id}" for account_id in accounts],
        "accounts": [account_id for _, account_id, _, _ in changes],
        "events": [event_id for _, _, event_id, _ in changes],
        "conversations": [change.conversation_id for _, _, _, change in changes],
        "data": [json.dumps(change.data) for _, _, _, change in changes],
    }


def _stored(events: list, changes: list[tuple[int, UUID, UUID, LiveChange]], rows) -> list[list[dict]]:
    """Per event, the changes stored now as they read back (id first, then the data's keys as
    jsonb orders them); one stored before (a redelivery) is left out."""
    # asyncpg's UUIDs equal and hash as uuid.UUID.
    new = {(row[1], row[2]): row[0] for row in rows}
    stored: list[list[dict]] = [[] for _ in events]
    for index, _, event_id, change in changes:
        change_id = new.pop((event_id, change.conversation_id), None)
        if change_id is not None:
            stored[index].append({"id": change_id, **jsonb_ordered(change.data)})
    return stored


def jsonb_ordered(value):
    """`value` as jsonb gives it back: an object's keys shortest first, then by their bytes."""
    if isinstance(value, dict):
        keys = sorted(value, key=lambda key: (len(key.encode()), key.encode()))
        return {key: jsonb_ordered(value[key]) for key in keys}
    if isinstance(value, list | tuple):
        return [jsonb_ordered(item) for item in value]
    return value


async def announce(session: AsyncSession, channel: str, account_id: UUID, message: dict) -> None:
    """To every open live stream of the account, on any replica, when (and if) this commits.
    Conversation changes are a few hundred bytes, far under pg_notify's 8000-byte limit."""
    await session.execute(
        text("SELECT pg_notify(:channel, :payload)"),
        {"channel": channel, "payload": json.dumps({"account_id": str(account_id), **message})},
    )


def _serialize(row) -> dict:
    return {"id": row["id"], **row["data"]}


async def changes_after(session: AsyncSession, account_id: UUID, after_id: int, limit: int) -> list[dict]:
    """Oldest first: what a stream missed since `after_id`."""
    rows = await session.execute(
        text(
            "SELECT id, data FROM notifier.live_events"
            " WHERE account_id = :account AND id > :after ORDER BY id LIMIT :limit"
        ),
        {"account": account_id, "after": after_id, "limit": limit},
    )
    return [_serialize(row._mapping) for row in rows]


async def position(session: AsyncSession, account_id: UUID) -> tuple[int, int]:
    """(the account's newest id, the newest of its ids pruned). The newest id counts pruned
    rows too, so a quiet account's cursor does not fall behind what was pruned."""
    row = (
        await session.execute(
            text(
                "SELECT"
                " coalesce((SELECT through_id FROM notifier.live_pruned WHERE account_id = :account), 0),"
                " coalesce((SELECT max(id) FROM notifier.live_events WHERE account_id = :account), 0)"
            ),
            {"account": account_id},
        )
    ).one()
    pruned, newest = row
    return max(pruned, newest), pruned


async def prune(session: AsyncSession, older_than: timedelta, batch: int) -> int | None:
    """Deletes up to `batch` changes older than `older_than`, remembering per account the newest
    id deleted; None when another replica is pruning."""
    locked = await session.scalar(
        text("SELECT pg_try_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": _PRUNE_LOCK}
    )
    if not locked:
        return None
    return await session.scalar(
        text(
            "WITH gone AS ("
            "  DELETE FROM notifier.live_events WHERE id IN ("
            "    SELECT id FROM notifier.live_events"
            "    WHERE created_at < now() - CAST(:age AS interval) ORDER BY id LIMIT :batch)"
            "  RETURNING account_id, id),"
            " marked AS ("
            "  INSERT INTO notifier.live_pruned (account_id, through_id)"
            "  SELECT account_id, max(id) FROM gone GROUP BY account_id"
            "  ON CONFLICT (account_id) DO UPDATE"
            "  SET through_id = greatest(live_pruned.through_id, excluded.through_id))"
            " SELECT count(*) FROM gone"
        ),
        {"age": older_than, "batch": batch},
    )


async def forget_typing(session: AsyncSession, older_than: timedelta) -> None:
    await session.execute(
        text("DELETE FROM notifier.typing_throttle WHERE sent_at < now() - CAST(:age AS interval)"),
        {"age": older_than},
    )


async def announce_typing(
    session: AsyncSession, channel: str, account_id: UUID, typing: dict, user_id: UUID, every: timedelta
) -> bool:
    """Announces that `user_id` is typing in the conversation unless they were announced there
    less than `every` ago (on any replica); whether it was announced."""
    conversation_id = typing["conversation_id"]
    announced = await session.scalar(
        text(
            "WITH allowed AS ("
            "  INSERT INTO notifier.typing_throttle (user_id, conversation_id) VALUES (:user, :conversation)"
            "  ON CONFLICT (user_id, conversation_id) DO UPDATE SET sent_at = now()"
            "  WHERE typing_throttle.sent_at <= now() - CAST(:every AS interval) RETURNING 1)"
            " SELECT count(*) FROM (SELECT pg_notify(:channel, :payload) FROM allowed) AS sent"
        ),
        {
            "user": user_id,
            "conversation": conversation_id,
            "every": every,
            "channel": channel,
            "payload": json.dumps({"account_id": str(account_id), "typing": typing}),
        },
    )
    return bool(announced)
