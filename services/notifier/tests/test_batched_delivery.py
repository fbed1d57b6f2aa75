"""Several events' notifications and live changes stored in one go (a batch of texts), on the real
PostgreSQL: each once per (event, user) or (event, conversation), a replay storing nothing, and
what is announced on commit arriving in id order (a stream skips an id below one it has sent)."""

import asyncio
import json
from uuid import uuid4

import asyncpg

from notifier import live_events, repository
from notifier.domain.drafts import NotificationDraft
from notifier.domain.live_changes import LiveChange
from shared.db.engine import create_engine, create_session_factory, pooled_asyncpg_connection
from shared.testing.infrastructure import dsn


async def _announced_during(database_url: str, channel: str, work) -> list[dict]:
    """What `channel` carried while `work()` ran and shortly after its commit."""
    heard: list[dict] = []
    listener = await asyncpg.connect(dsn(database_url))
    try:
        await listener.add_listener(channel, lambda *args: heard.append(json.loads(args[-1])))
        await work()
        await asyncio.sleep(0.5)
    finally:
        await listener.close()
    return heard


def _draft(user, title: str) -> NotificationDraft:
    return NotificationDraft(user, "message_received", title, "", {"title": title})


async def test_notifications_of_a_batch_are_stored_once_each_and_announced_in_id_order(
    database_url, settings, dealer
):
    sam, kim = dealer.users["sam"], dealer.users["kim"]
    first, second = uuid4(), uuid4()
    events = [
        (dealer.account_id, first, [_draft(sam, "one"), _draft(kim, "one")]),
        (dealer.account_id, second, [_draft(kim, "two"), _draft(kim, "two again")]),  # kim twice: once
        (dealer.account_id, first, [_draft(sam, "one"), _draft(kim, "one")]),  # the first again
    ]
    engine = create_engine(settings)
    sessions = create_session_factory(engine)
    stored: list[list[dict]] = []

    async def store() -> None:
        async with sessions.begin() as session:
            stored.extend(
                await repository.store_notifications_of_events(session, events, settings.live_channel)
            )

    try:
        heard = await _announced_during(database_url, settings.live_channel, store)
        assert [[(n["user_id"], n["title"]) for n in rows] for rows in stored] == [
            [(str(sam), "one"), (str(kim), "one")],
            [(str(kim), "two")],
            [],
        ]
        ids = [n["id"] for rows in stored for n in rows]
        assert ids == sorted(ids)
        ours = [n for n in heard if n.get("user_id") in (str(sam), str(kim))]
        assert [n["id"] for n in ours] == ids
        # Replayed in a later transaction: nothing stored, nothing announced.
        async with sessions.begin() as session:
            again = await repository.store_notifications_of_events(session, events[:2], settings.live_channel)
        assert again == [[], []]
    finally:
        await engine.dispose()


async def test_live_changes_of_a_batch_are_stored_once_per_conversation_and_announced_in_id_order(
    database_url, settings, dealer, other_dealer
):
    one, two = uuid4(), uuid4()
    event, other_event = uuid4(), uuid4()
    events = [
        (
            dealer.account_id,
            event,
            [
                LiveChange(one, {"change": "message_received", "conversation_id": str(one), "a": "1"}),
                LiveChange(two, {"change": "x"}),
            ],
        ),
        (other_dealer.account_id, other_event, [LiveChange(uuid4(), {"change": "message_received"})]),
        (dealer.account_id, event, [LiveChange(one, {"change": "message_received"})]),  # redelivered
    ]
    engine = create_engine(settings)
    sessions = create_session_factory(engine)
    stored: list[list[dict]] = []

    async def store() -> None:
        # As the consumer does: the pool's asyncpg connection, in a transaction of its own.
        async with pooled_asyncpg_connection(engine) as connection, connection.transaction():
            stored.extend(await live_events.store_changes_on(connection, events, settings.live_channel))

    try:
        heard = await _announced_during(database_url, settings.live_channel, store)
        assert [len(rows) for rows in stored] == [2, 1, 0]
        accounts = {str(dealer.account_id), str(other_dealer.account_id)}
        ours = [message for message in heard if message.get("account_id") in accounts]
        assert [m["live"]["id"] for m in ours] == sorted(c["id"] for rows in stored for c in rows)
        assert [m["account_id"] for m in ours] == [
            str(dealer.account_id),
            str(dealer.account_id),
            str(other_dealer.account_id),
        ]
        async with sessions() as session:
            changes = await live_events.changes_after(session, dealer.account_id, 0, 10)
        assert [c["change"] for c in changes] == ["message_received", "x"]
        # What was returned and announced is the change as it reads back, keys in the same order.
        assert [list(c.items()) for c in stored[0]] == [list(c.items()) for c in changes]
        assert [list(m["live"].items()) for m in ours[:2]] == [list(c.items()) for c in changes]
    finally:
        await engine.dispose()


async def test_what_is_announced_is_byte_for_byte_the_stored_notification_serialized(
    database_url, settings, dealer
):
    """The announcement is built in SQL around what Python made of the draft: it must read as
    `announcement(serialize(row))` of the row as stored, whatever the text or the data holds, and
    one too big for pg_notify is announced by id only."""
    sam = dealer.users["sam"]
    drafts = [
        NotificationDraft(
            sam,
            "mentioned",
            "Élodie a écrit « ça » 🚗",
            'line\nbreak "quoted" \\',
            {
                "zeta": ["a", {"b": None, "aa": True}],
                "n": 3,
                "id_like": "x",
                "é": "ü",
            },
        ),
        NotificationDraft(dealer.users["kim"], "mentioned", "big", "é" * 1200, {"note": "ü" * 300}),
    ]
    engine = create_engine(settings)
    sessions = create_session_factory(engine)
    raw: list[str] = []
    stored: list[list[dict]] = []

    async def store() -> None:
        async with sessions.begin() as session:
            stored.extend(
                await repository.store_notifications_of_events(
                    session, [(dealer.account_id, uuid4(), drafts)], settings.live_channel
                )
            )

    listener = await asyncpg.connect(dsn(database_url))
    try:
        await listener.add_listener(settings.live_channel, lambda *args: raw.append(args[-1]))
        await store()
        await asyncio.sleep(0.5)
        ids = [n["id"] for n in stored[0]]
        async with sessions() as session:
            rows = [
                (await repository.notifications_after(session, dealer.account_id, user, 0))[-1]
                for user in (sam, dealer.users["kim"])
            ]
        assert [row["id"] for row in rows] == ids
        # Returned as read back, key order included.
        assert [list(n.items()) for n in stored[0]] == [list(row.items()) for row in rows]
        ours = [payload for payload in raw if any(f'"id": {i},' in payload for i in ids)]
        assert ours == [repository.announcement(row) for row in rows]
        assert json.loads(ours[1]) == {"id": ids[1], "user_id": str(dealer.users["kim"]), "fetch": True}
    finally:
        await listener.close()
        await engine.dispose()
