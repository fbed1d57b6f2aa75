"""The live stream: what a user's open streams receive, reconnecting with Last-Event-ID without
loss or repeats, notifications too big for a NOTIFY payload, and many streams sharing the one
LISTEN connection of the process."""

import asyncio
import contextlib
from uuid import uuid4

from notifier import repository
from notifier.domain.drafts import NotificationDraft
from notifier.live import LiveHub
from notifier.stream_feed import notification_stream
from shared.contracts.topics import CONVERSATION_ASSIGNED, MESSAGE_RECEIVED
from shared.db.engine import create_engine, create_session_factory


def _stream(nt, notifier, dealer, who: str, last_event_id: str | None = None):
    return nt.SseStream(
        f"{notifier.url}/api/v1/notifications/stream", _token(dealer, who), last_event_id=last_event_id
    )


def _token(dealer, who: str) -> str:
    return dealer.headers(who)["authorization"].removeprefix("Bearer ")


def _for(conversation_id) -> callable:
    return lambda e: e.data["data"].get("conversation_id") == str(conversation_id)


async def test_reconnecting_with_last_event_id_gets_what_was_missed_and_nothing_twice(
    notifier, kafka, http, dealer, nt
):
    sam = dealer.users["sam"]
    first = nt.message_event(dealer.account_id, [sam])
    async with _stream(nt, notifier, dealer, "sam").open() as stream:
        await kafka.publish(MESSAGE_RECEIVED, first)
        seen = await stream.wait_for(_for(first.conversation_id))
    assert seen.event == "message_received" and seen.id == str(seen.data["id"])

    missed = [nt.message_event(dealer.account_id, [sam]) for _ in range(3)]
    for event in missed:
        await kafka.publish(MESSAGE_RECEIVED, event)

    async def all_stored():
        items = await nt.feed(http, dealer.headers("sam"))
        return all(nt.of_event(items, "conversation_id", str(e.conversation_id)) for e in missed)

    assert await nt.eventually(all_stored)

    later = nt.message_event(dealer.account_id, [sam])
    async with _stream(nt, notifier, dealer, "sam", last_event_id=seen.id).open() as resumed:
        await kafka.publish(MESSAGE_RECEIVED, later)
        await resumed.wait_for(_for(later.conversation_id))
        await asyncio.sleep(0.5)
        received = [e.data["data"]["conversation_id"] for e in resumed.events]
    # The missed ones were consumed from two partitions: stored (and so sent) in either order.
    assert sorted(received[:3]) == sorted(str(e.conversation_id) for e in missed)
    assert received[3:] == [str(later.conversation_id)]
    ids = [int(e.id) for e in resumed.events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)

    # Without Last-Event-ID a stream starts from now: no replay.
    async with _stream(nt, notifier, dealer, "sam").open() as fresh:
        await asyncio.sleep(0.5)
        assert fresh.events == []


async def test_each_of_a_users_streams_gets_it_and_nobody_else(notifier, kafka, dealer, other_dealer, nt):
    kim = dealer.users["kim"]
    event = nt.message_event(dealer.account_id, [kim])
    async with (
        _stream(nt, notifier, dealer, "kim").open() as tab1,
        _stream(nt, notifier, dealer, "kim").open() as tab2,
        _stream(nt, notifier, dealer, "sam").open() as colleague,
        _stream(nt, notifier, other_dealer, "kim").open() as elsewhere,
    ):
        await kafka.publish(MESSAGE_RECEIVED, event)
        await tab1.wait_for(_for(event.conversation_id))
        await tab2.wait_for(_for(event.conversation_id))
        await asyncio.sleep(0.5)
        assert colleague.events == [] and elsewhere.events == []
        assert len(tab1.events) == len(tab2.events) == 1


async def test_a_bulk_assignment_too_big_for_a_notify_payload_still_streams_whole(
    notifier, kafka, dealer, nt
):
    sam = dealer.users["sam"]
    ids = [uuid4() for _ in range(300)]  # ~11 kB of ids: over pg_notify's 8000-byte limit
    event = nt.assigned_event(
        dealer.account_id, dealer.users["alex"], [sam], conversation_ids=ids, assignee_user_id=sam
    )
    async with _stream(nt, notifier, dealer, "sam").open() as stream:
        await kafka.publish(CONVERSATION_ASSIGNED, event)
        got = await stream.wait_for(lambda e: e.event == "conversation_assigned")
    assert got.data["data"]["conversation_ids"] == [str(i) for i in ids]
    assert got.data["title"] == "Alex Admin assigned 300 conversations to you"


async def test_a_thousand_streams_share_one_listen_connection(notifier, settings, dealer, db):
    """1,000 open streams of 50 users in this process: one notification per user reaches every
    stream of its user, and the database sees no more connections than before they opened."""
    hub = notifier.hub
    users = [uuid4() for _ in range(50)]
    connections_before = await _connections(db)
    with contextlib.ExitStack() as stack:
        streams = [(user, stack.enter_context(hub.stream(str(user)))) for user in users for _ in range(20)]
        assert hub.open_streams >= 1000
        engine = create_engine(settings)
        async with create_session_factory(engine).begin() as session:
            await repository.store_notifications(
                session,
                dealer.account_id,
                uuid4(),
                [NotificationDraft(user, "message_received", "hello", "", {}) for user in users],
                settings.live_channel,
            )
        await engine.dispose()

        async def delivered(user, live):
            item = await asyncio.wait_for(live.queue.get(), 10)
            return item["user_id"] == str(user)

        results = await asyncio.gather(*(delivered(user, live) for user, live in streams))
        assert all(results) and len(results) == 1000
        assert await _connections(db) <= connections_before


async def _connections(db) -> int:
    return await db.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )


async def test_a_stalled_stream_whose_queue_overflowed_catches_up_from_the_table_once(settings, dealer):
    """A client that stops reading overflows its (here: tiny) queue; when it reads again it
    gets every notification, in order, once."""
    hub = LiveHub(settings.database_url, settings.live_channel, queue_size=2)
    stop = asyncio.Event()
    listener = asyncio.create_task(hub.run(stop))
    engine = create_engine(settings)
    sessions = create_session_factory(engine)
    user = dealer.users["lou"]
    try:
        await asyncio.wait_for(hub.listening.wait(), 10)
        stream = notification_stream(
            hub, sessions, dealer.account_id, user, None, _never_disconnected, check_seconds=0.2
        )
        assert await anext(stream) is None  # ready: nothing missed
        stored = []
        for index in range(6):
            async with sessions.begin() as session:
                rows = await repository.store_notifications(
                    session,
                    dealer.account_id,
                    uuid4(),
                    [NotificationDraft(user, "mentioned", f"n{index}", "", {})],
                    settings.live_channel,
                )
            stored.append(rows[0]["id"])
        await asyncio.sleep(0.5)  # all announced while nobody reads
        received = [(await asyncio.wait_for(anext(stream), 5))["id"] for _ in stored]
        assert received == stored
        with contextlib.suppress(TimeoutError):
            extra = await asyncio.wait_for(anext(stream), 1)
            raise AssertionError(f"sent twice: {extra}")
        await stream.aclose()
    finally:
        stop.set()
        await listener
        await engine.dispose()


async def _never_disconnected() -> bool:
    return False


async def test_a_backlog_longer_than_a_page_is_replayed_whole(settings, dealer, db):
    user = uuid4()
    ids = [
        row["id"]
        for row in await db.fetch(
            "INSERT INTO notifier.notifications (account_id, user_id, kind, title, source_event_id)"
            " SELECT $1, $2, 'mentioned', 'n' || i, gen_random_uuid() FROM generate_series(1, 1234) i"
            " RETURNING id",
            dealer.account_id,
            user,
        )
    ]
    hub = LiveHub(settings.database_url, settings.live_channel)
    engine = create_engine(settings)
    try:
        stream = notification_stream(
            hub,
            create_session_factory(engine),
            dealer.account_id,
            user,
            0,
            _never_disconnected,
            check_seconds=0.2,
        )
        replayed = []
        while (item := await anext(stream)) is not None:
            replayed.append(item["id"])
        await stream.aclose()
    finally:
        await engine.dispose()
    assert replayed == sorted(ids)


async def test_what_is_stored_while_the_listen_connection_is_down_still_reaches_open_streams(
    notifier, settings, dealer, db, nt
):
    user = "sam"
    async with nt.SseStream(
        f"{notifier.url}/api/v1/notifications/stream", _token(dealer, user)
    ).open() as stream:
        terminated = await db.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = 'notifier-live'"
        )
        assert terminated == 1
        engine = create_engine(settings)
        async with create_session_factory(engine).begin() as session:
            (stored,) = await repository.store_notifications(
                session,
                dealer.account_id,
                uuid4(),
                [NotificationDraft(dealer.users[user], "mentioned", "while nobody listened", "", {})],
                settings.live_channel,
            )
        await engine.dispose()
        # Well before the listener's 10 s liveness query: the lost connection is noticed at once.
        got = await stream.wait_for(lambda e: e.data["id"] == stored["id"], 6)
        assert got.data["title"] == "while nobody listened"
        await asyncio.sleep(1)
        assert [e.data["id"] for e in stream.events].count(stored["id"]) == 1
    assert await nt.eventually(lambda: _listening(db))


async def _listening(db) -> bool:
    return (
        await db.fetchval(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = 'notifier-live'"
        )
        == 1
    )


async def test_marking_read_in_one_tab_tells_the_users_other_tabs_without_moving_their_last_event_id(
    notifier, kafka, http, dealer, nt
):
    kim = dealer.users["kim"]
    event = nt.message_event(dealer.account_id, [kim])
    url = f"{notifier.url}/api/v1/notifications/stream"
    async with (
        nt.SseStream(url, _token(dealer, "kim")).open() as tab,
        nt.SseStream(url, _token(dealer, "sam")).open() as colleague,
    ):
        await kafka.publish(MESSAGE_RECEIVED, event)
        arrived = await tab.wait_for(_for(event.conversation_id))
        marked = await http.post(f"/api/v1/notifications/{arrived.id}/read", headers=dealer.headers("kim"))
        assert marked.status_code == 200
        read = await tab.wait_for(lambda e: e.event == "read")
        assert read.data == {"ids": [int(arrived.id)]} and read.id is None
        await http.post("/api/v1/notifications/read-all", headers=dealer.headers("kim"))  # nothing unread
        await asyncio.sleep(0.5)
        assert [e.event for e in tab.events].count("read") == 1
        assert colleague.events == []
