"""Auto-close: only due conversations of accounts with the setting on are closed, each with a
timeline event and an outbox event, exactly once even with several sweepers at the same time."""

import asyncio
import json
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import func, select, update

from routing.settings import RoutingSettings
from routing.sweeper import AutoCloseSweeper
from routing.tables import accounts, conversations, outbox, timeline_events
from shared.db.engine import create_engine, create_session_factory

TOPIC = "conversation.status_changed.v1"


async def _auto_close_after(dealer, days: int | None) -> None:
    async with dealer.sessions.begin() as session:
        await session.execute(
            update(accounts).where(accounts.c.id == dealer.account_id).values(auto_close_after_days=days)
        )


async def _statuses(dealer, ids: list[UUID]) -> dict[UUID, str]:
    async with dealer.sessions() as session:
        rows = await session.execute(
            select(conversations.c.id, conversations.c.status).where(conversations.c.id.in_(ids))
        )
        return {row.id: row.status for row in rows}


async def _closed_events(dealer, ids: list[UUID]) -> tuple[dict[UUID, list], dict[UUID, list]]:
    """Per conversation: its `closed` timeline events and its status-changed outbox events."""
    async with dealer.sessions() as session:
        timeline = await session.execute(
            select(
                timeline_events.c.conversation_id, timeline_events.c.actor_user_id, timeline_events.c.data
            ).where(timeline_events.c.conversation_id.in_(ids), timeline_events.c.kind == "closed")
        )
        events = await session.execute(
            select(outbox.c.key, outbox.c.payload).where(
                outbox.c.topic == TOPIC, outbox.c.key.in_([str(i) for i in ids])
            )
        )
        by_timeline: dict[UUID, list] = {i: [] for i in ids}
        for row in timeline:
            by_timeline[row.conversation_id].append((row.actor_user_id, row.data))
        by_outbox: dict[UUID, list] = {i: [] for i in ids}
        for row in events:
            by_outbox[UUID(row.key)].append(json.loads(bytes(row.payload)))
        return by_timeline, by_outbox


def _sweeper(dealer, batch_size: int = 500, on_events=lambda: None) -> AutoCloseSweeper:
    settings = dealer.settings.model_copy(update={"auto_close_batch_size": batch_size})
    return AutoCloseSweeper(dealer.sessions, settings, on_events=on_events)


async def test_closes_only_due_conversations_of_accounts_with_the_setting_on(
    client, dealer, other_dealer, ago
):
    await _auto_close_after(dealer, 2)
    due = await dealer.receive(ago(49))
    recent = await dealer.receive(ago(47))
    already_closed = await dealer.receive(ago(100))
    async with dealer.sessions.begin() as session:
        await session.execute(
            update(conversations).where(conversations.c.id == already_closed).values(status="closed")
        )
    setting_off = await other_dealer.receive(ago(24 * 60))
    woken = []

    closed = await _sweeper(dealer, on_events=lambda: woken.append(1)).sweep(now=datetime.now(UTC))

    assert due in closed
    assert {recent, already_closed, setting_off}.isdisjoint(closed)
    assert woken
    assert await _statuses(dealer, [due, recent, already_closed, setting_off]) == {
        due: "closed",
        recent: "open",
        already_closed: "closed",
        setting_off: "open",
    }
    timeline, events = await _closed_events(dealer, [due, recent, already_closed, setting_off])
    assert timeline[due] == [(None, {"previous_status": "open", "reason": "auto_close"})]
    assert timeline[recent] == timeline[already_closed] == timeline[setting_off] == []
    [event] = events[due]
    assert (event["status"], event["previous_status"], event["reason"]) == ("closed", "open", "auto_close")
    assert event["actor_user_id"] is None
    assert event["account_id"] == str(dealer.account_id)
    assert events[recent] == events[already_closed] == events[setting_off] == []

    # Staff see the close in the timeline, without an actor.
    items = (await client.get(f"/api/v1/conversations/{due}/timeline", headers=dealer.sam)).json()["items"]
    assert [(i["kind"], i["actor_user_id"]) for i in items] == [("message", None), ("closed", None)]

    # Nothing is due any more: a second sweep closes nothing of ours.
    again = await _sweeper(dealer).sweep(now=datetime.now(UTC))
    assert {due, recent, already_closed, setting_off}.isdisjoint(again)

    # Turning the setting off stops it; the threshold follows the setting.
    await _auto_close_after(dealer, None)
    assert recent not in await _sweeper(dealer).sweep(now=datetime.now(UTC))
    await _auto_close_after(dealer, 1)
    assert recent in await _sweeper(dealer).sweep(now=datetime.now(UTC))


async def test_a_new_message_makes_a_conversation_no_longer_due(dealer, ago):
    await _auto_close_after(dealer, 1)
    number = "+14385550142"
    conversation = await dealer.receive(ago(30), customer_number=number)
    await dealer.receive(ago(1), customer_number=number)
    assert conversation not in await _sweeper(dealer).sweep(now=datetime.now(UTC))
    assert (await _statuses(dealer, [conversation]))[conversation] == "open"


async def test_concurrent_sweepers_close_each_conversation_exactly_once(dealer, ago):
    await _auto_close_after(dealer, 1)
    due = [await dealer.receive(ago(30 + i)) for i in range(24)]
    now = datetime.now(UTC)

    first, second = await asyncio.gather(
        _sweeper(dealer, batch_size=3).sweep(now=now),
        _sweeper(dealer, batch_size=3).sweep(now=now),
    )

    assert set(first).isdisjoint(second)
    assert set(due) <= set(first) | set(second)
    assert set((await _statuses(dealer, due)).values()) == {"closed"}
    timeline, events = await _closed_events(dealer, due)
    assert all(len(timeline[c]) == 1 for c in due)
    assert all(len(events[c]) == 1 for c in due)


async def test_the_background_job_sweeps_until_stopped_and_survives_failures(dealer, ago, settings):
    await _auto_close_after(dealer, 1)
    due = await dealer.receive(ago(25))
    fast = settings.model_copy(update={"auto_close_interval_seconds": 0.05})

    # A database that cannot be reached: every sweep fails, the job logs it and keeps going.
    broken = RoutingSettings(database_url="postgresql+asyncpg://nobody:nothing@127.0.0.1:1/none")
    engine = create_engine(broken)
    stop = asyncio.Event()
    failing = asyncio.create_task(AutoCloseSweeper(create_session_factory(engine), fast).run(stop))
    await asyncio.sleep(0.3)
    assert not failing.done()

    working = asyncio.create_task(AutoCloseSweeper(dealer.sessions, fast).run(stop))
    for _ in range(100):
        if (await _statuses(dealer, [due]))[due] == "closed":
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(asyncio.gather(failing, working), timeout=5)
    await engine.dispose()
    assert (await _statuses(dealer, [due]))[due] == "closed"
    async with dealer.sessions() as session:
        count = await session.scalar(
            select(func.count()).where(outbox.c.topic == TOPIC, outbox.c.key == str(due))
        )
    assert count == 1
