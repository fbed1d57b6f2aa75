"""The account-wide live stream (/api/v1/live) over real Kafka and Postgres: what a page of the
account receives (and a page of another account does not), resuming with Last-Event-ID without
loss or repeats, a resync past the retention window, and typing presence."""

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import httpx

from notifier.consumers.live import prune_once
from notifier.live_feed import Cursor, parse_cursor
from shared.contracts.conversation import (
    ConversationReadChanged,
    ConversationStatusChanged,
    MessageStatusChanged,
)
from shared.contracts.topics import (
    CONVERSATION_ASSIGNED,
    CONVERSATION_READ,
    CONVERSATION_STATUS_CHANGED,
    MESSAGE_RECEIVED,
    MESSAGE_STATUS_CHANGED,
)
from shared.db.engine import create_engine, create_session_factory


def _live(nt, notifier, dealer, who: str, last_event_id: str | None = None):
    token = dealer.headers(who)["authorization"].removeprefix("Bearer ")
    return nt.SseStream(f"{notifier.url}/api/v1/live", token, last_event_id=last_event_id)


def _change(conversation_id, change: str):
    return lambda e: (
        e.event == "conversation"
        and e.data["conversation_id"] == str(conversation_id)
        and e.data["change"] == change
    )


def _cursor(event) -> Cursor:
    cursor = parse_cursor(event.id)
    assert cursor is not None, event
    return cursor


async def test_an_inbound_text_reaches_the_accounts_pages_and_the_assignees_bell(
    notifier, kafka, dealer, other_dealer, nt
):
    kim = dealer.users["kim"]
    event = nt.message_event(dealer.account_id, [kim])
    async with (
        _live(nt, notifier, dealer, "kim").open() as kims,
        _live(nt, notifier, dealer, "sam").open() as sams,
        _live(nt, notifier, other_dealer, "kim").open() as elsewhere,
    ):
        await kafka.publish(MESSAGE_RECEIVED, event)
        got = await sams.wait_for(_change(event.conversation_id, "message_received"))
        assert got.data == {
            "conversation_id": str(event.conversation_id),
            "change": "message_received",
            "message_id": str(event.message_id),
            "occurred_at": event.occurred_at.isoformat(),
        }
        await kims.wait_for(_change(event.conversation_id, "message_received"))
        bell = await kims.wait_for(lambda e: e.event == "notification")
        assert bell.data["change"] == "new" and bell.data["unread"] >= 1
        assert bell.data["notification"]["data"]["conversation_id"] == str(event.conversation_id)
        assert _cursor(bell).notification == bell.data["notification"]["id"]
        await asyncio.sleep(0.5)
        assert elsewhere.events == []
        assert [e.event for e in sams.events] == ["conversation"]


async def test_close_reopen_assignment_read_marks_and_delivery_statuses_show_up(notifier, kafka, dealer, nt):
    alex, sam = dealer.users["alex"], dealer.users["sam"]
    conversation, other = uuid4(), uuid4()
    message = uuid4()
    account = dealer.account_id
    async with _live(nt, notifier, dealer, "kim").open() as page:
        for status, previous in (("closed", "open"), ("open", "closed")):
            await kafka.publish(
                CONVERSATION_STATUS_CHANGED,
                ConversationStatusChanged(
                    account_id=account,
                    conversation_id=conversation,
                    status=status,
                    previous_status=previous,
                    actor_user_id=alex,
                ),
            )
        await kafka.publish(
            CONVERSATION_ASSIGNED,
            nt.assigned_event(
                account, alex, [sam], conversation_ids=[conversation, other], assignee_user_id=sam
            ),
        )
        await kafka.publish(
            CONVERSATION_READ,
            ConversationReadChanged(account_id=account, conversation_id=conversation, user_id=sam, read=True),
        )
        await kafka.publish(
            MESSAGE_STATUS_CHANGED,
            MessageStatusChanged(
                account_id=account,
                conversation_id=conversation,
                message_id=message,
                status="undelivered",
                error_category="landline",
            ),
        )
        await page.wait_for(_change(other, "assigned"))
        assigned = await page.wait_for(_change(conversation, "assigned"))
        assert assigned.data["user_id"] == str(alex)
        read = await page.wait_for(_change(conversation, "read"))
        assert read.data["user_id"] == str(sam)
        status = await page.wait_for(_change(conversation, "message_status"))
        assert status.data["message_id"] == str(message) and status.data["status"] == "undelivered"
        await page.wait_for(
            lambda e: _change(conversation, "status_changed")(e) and e.data["status"] == "open"
        )
        statuses = [e.data["status"] for e in page.events if _change(conversation, "status_changed")(e)]
        assert statuses == ["closed", "open"]  # one partition (the conversation's): in order


async def test_reconnecting_with_last_event_id_gets_what_was_missed_and_nothing_twice(
    notifier, kafka, http, dealer, db, nt
):
    sam = dealer.users["sam"]
    first = nt.message_event(dealer.account_id, [])
    async with _live(nt, notifier, dealer, "sam").open() as page:
        await kafka.publish(MESSAGE_RECEIVED, first)
        seen = await page.wait_for(_change(first.conversation_id, "message_received"))

    # Missed: texts of the account (two partitions) and a notification of Sam's own.
    missed = [nt.message_event(dealer.account_id, []) for _ in range(3)]
    told = nt.message_event(dealer.account_id, [sam])
    for event in [*missed, told]:
        await kafka.publish(MESSAGE_RECEIVED, event)

    async def all_stored():
        items = await nt.feed(http, dealer.headers("sam"))
        changes = await db.fetchval(
            "SELECT count(*) FROM notifier.live_events WHERE account_id = $1 AND id > $2",
            dealer.account_id,
            _cursor(seen).change,
        )
        return changes == 4 and bool(nt.of_event(items, "conversation_id", str(told.conversation_id)))

    assert await nt.eventually(all_stored)

    later = nt.message_event(dealer.account_id, [])
    async with _live(nt, notifier, dealer, "sam", last_event_id=seen.id).open() as resumed:
        await kafka.publish(MESSAGE_RECEIVED, later)
        await resumed.wait_for(_change(later.conversation_id, "message_received"))
        await asyncio.sleep(0.5)
    changes = [e.data["conversation_id"] for e in resumed.events if e.event == "conversation"]
    expected = {str(e.conversation_id) for e in [*missed, told]}
    assert sorted(changes[:4]) == sorted(expected)
    assert changes[4:] == [str(later.conversation_id)]
    notifications = [e for e in resumed.events if e.event == "notification"]
    assert [n.data["notification"]["data"]["conversation_id"] for n in notifications] == [
        str(told.conversation_id)
    ]
    cursors = [_cursor(e) for e in resumed.events]
    for before, after in zip([_cursor(seen), *cursors], cursors, strict=False):
        assert (after.change, after.notification) > (before.change, before.notification)
        assert after.change >= before.change and after.notification >= before.notification

    # Without Last-Event-ID a stream starts from now: no replay.
    async with _live(nt, notifier, dealer, "sam").open() as fresh:
        await asyncio.sleep(0.5)
        assert fresh.events == []


async def test_a_burst_arrives_whole_in_order_with_each_notifications_own_unread_count(
    notifier, kafka, http, dealer, nt
):
    """The stream sends what arrives together in one write and keeps the unread count itself
    between counts: every event still arrives once, in id order, each notification with the
    count when it was sent, and a read mark elsewhere brings the count down."""
    kim = dealer.users["kim"]
    headers = dealer.headers("kim")
    before = await nt.unread(http, headers)
    burst = [nt.message_event(dealer.account_id, [kim]) for _ in range(40)]
    async with _live(nt, notifier, dealer, "kim").open() as page:
        for event in burst:
            await kafka.publish(MESSAGE_RECEIVED, event)
        await page.wait_for(
            lambda _: len([e for e in page.events if e.event == "notification"]) == len(burst)
        )
        await asyncio.sleep(0.3)
        changes = [e for e in page.events if e.event == "conversation"]
        bells = [e for e in page.events if e.event == "notification"]
        assert sorted(c.data["message_id"] for c in changes) == sorted(str(e.message_id) for e in burst)
        # Each count is the count when it was sent: at least that notification's place, never
        # going down while nothing is read, and all of them at the end.
        counts = [b.data["unread"] for b in bells]
        assert counts == sorted(counts) and counts[-1] == before + len(burst)
        assert all(count >= before + place for place, count in enumerate(counts, 1))
        cursors = [_cursor(e) for e in page.events]
        assert cursors == sorted(cursors, key=lambda c: (c.change, c.notification))
        assert len({(c.change, c.notification) for c in cursors}) == len(cursors)

        read = await http.post(
            f"/api/v1/notifications/{bells[0].data['notification']['id']}/read", headers=headers
        )
        assert read.status_code == 200, read.text
        mark = await page.wait_for(lambda e: e.event == "notification" and e.data["change"] == "read")
        assert mark.data["unread"] == before + len(burst) - 1
        after = nt.message_event(dealer.account_id, [kim])
        await kafka.publish(MESSAGE_RECEIVED, after)
        bell = await page.wait_for(
            lambda e: (
                e.event == "notification"
                and e.data["change"] == "new"
                and e.data["notification"]["data"]["conversation_id"] == str(after.conversation_id)
            )
        )
        assert bell.data["unread"] == before + len(burst)


async def test_an_id_older_than_the_retention_window_asks_the_page_to_reload(
    notifier, kafka, settings, dealer, db, nt
):
    event = nt.message_event(dealer.account_id, [])
    async with _live(nt, notifier, dealer, "lou").open() as page:
        await kafka.publish(MESSAGE_RECEIVED, event)
        seen = await page.wait_for(_change(event.conversation_id, "message_received"))
    change_id = _cursor(seen).change
    await db.execute(
        "UPDATE notifier.live_events SET created_at = $2 WHERE id = $1",
        change_id,
        datetime.now(UTC) - timedelta(days=2),
    )
    engine = create_engine(settings)
    try:
        assert await prune_once(create_session_factory(engine), timedelta(hours=24), 100) >= 1
    finally:
        await engine.dispose()

    before = str(Cursor(change_id - 1, _cursor(seen).notification))
    async with _live(nt, notifier, dealer, "lou", last_event_id=before).open() as stale:
        await asyncio.sleep(0.3)
    assert [e.event for e in stale.events] == ["resync"]
    assert _cursor(stale.events[0]).change >= change_id

    # The page that saw the pruned change itself missed nothing: it resumes quietly.
    async with _live(nt, notifier, dealer, "lou", last_event_id=seen.id).open() as current:
        await asyncio.sleep(0.3)
    assert current.events == []


async def test_typing_reaches_colleagues_of_the_account_only_and_is_throttled(
    notifier, http, dealer, other_dealer, nt
):
    conversation = str(uuid4())
    async with (
        _live(nt, notifier, dealer, "sam").open() as sams,
        _live(nt, notifier, dealer, "kim").open() as kims,
        _live(nt, notifier, other_dealer, "sam").open() as elsewhere,
    ):
        for _ in range(3):
            sent = await http.post(
                "/api/v1/presence/typing",
                json={"conversation_id": conversation},
                headers=dealer.headers("kim"),
            )
            assert sent.status_code == 204, sent.text
        typing = await sams.wait_for(lambda e: e.event == "typing")
        assert typing.id is None
        assert typing.data == {
            "conversation_id": conversation,
            "user_id": str(dealer.users["kim"]),
            "name": "Kim Lee",
        }
        await asyncio.sleep(0.5)
        assert [e.event for e in sams.events] == ["typing"]  # three posts within 2 s: one signal
        assert kims.events == [] and elsewhere.events == []


async def test_refusals(notifier, http, dealer):
    async with httpx.AsyncClient(timeout=5) as client:
        anonymous = await client.get(f"{notifier.url}/api/v1/live")
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "unauthorized"
    token = dealer.headers("sam")["authorization"].removeprefix("Bearer ")
    in_url = await http.get("/api/v1/live", params={"access_token": token})
    assert in_url.status_code == 401  # a token in a URL ends up in logs: not taken here
    assert (
        await http.post("/api/v1/presence/typing", json={"conversation_id": str(uuid4())})
    ).status_code == 401
    for body in ({}, {"conversation_id": "nope"}, {"conversation_id": str(uuid4()), "extra": 1}):
        bad = await http.post("/api/v1/presence/typing", json=body, headers=dealer.headers("sam"))
        assert bad.status_code == 422, body


def test_last_event_ids_are_read_strictly():
    assert parse_cursor("12-7") == Cursor(12, 7)
    assert str(Cursor(12, 7)) == "12-7"
    for value in (None, "", "12", "12-", "-7", "a-7", "12-7-1", "1" * 19 + "-1", "12.7"):
        assert parse_cursor(value) is None, value
