"""New customers and closed conversations in a batch of inbound texts (record_inbound_batch creates
the customers, their conversations and first messages together, then stores their later texts
with the others), on the real PostgreSQL: the same outcome and the same outbox events as the
texts one by one; a replay stores nothing; two transactions given the same new number at once
make one customer."""

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from sqlalchemy import func, select, update

from routing.messaging.usecases.inbound_batch import record_inbound_batch
from routing.tables import conversations, customer_phones, customers, messages, opt_outs, timeline_events
from shared.contracts.base import Attachment

from .test_inbound_batch import a_number, bodies, conversation_of, outbox_rows, store, text_from

NEW_CUSTOMERS = 6


async def a_world(dealer, at: datetime) -> dict[str, str]:
    """Customers by role: some new, two with an open conversation (one assigned to Kim), one with a
    closed conversation."""
    roles = {f"new{n}": a_number() for n in range(NEW_CUSTOMERS)}
    roles |= {"open": a_number(), "kim": a_number(), "closed": a_number()}
    await store(dealer, [text_from(dealer, roles[r], "hello", at) for r in ("open", "kim", "closed")])
    await dealer.set_assignee((await conversation_of(dealer, roles["kim"])).id, user_id=dealer.kim_id)
    closed = await conversation_of(dealer, roles["closed"])
    async with dealer.sessions.begin() as session:
        await session.execute(
            update(conversations).where(conversations.c.id == closed.id).values(status="closed")
        )
    return roles


def the_texts(dealer, roles: dict[str, str], at: datetime) -> list:
    """Interleaved: each new customer's three texts (the second of new1 a keyword, new2's last sent
    twice by the carrier), the open ones' texts, the closed one's texts."""
    texts, second = [], timedelta(seconds=1)
    for turn in range(3):
        for n in range(NEW_CUSTOMERS):
            body = "STOP" if (n, turn) == (1, 1) else f"new{n} text {turn}"
            texts.append(text_from(dealer, roles[f"new{n}"], body, at + turn * 10 * second + n * second))
        texts.append(text_from(dealer, roles["open"], f"open text {turn}", at + turn * 10 * second))
        texts.append(text_from(dealer, roles["kim"], f"kim text {turn}", at + turn * 10 * second))
        texts.append(text_from(dealer, roles["closed"], f"closed text {turn}", at + turn * 10 * second))
    # A photo with a new customer's first text (stored by the statement that creates them).
    photo = Attachment(url="https://media.example/car.jpg", content_type="image/jpeg")
    texts[0] = texts[0].model_copy(update={"attachments": [photo]})
    retry = next(t for t in texts if t.body == "new2 text 2")
    texts.append(retry.model_copy(update={"event_id": uuid4()}))
    return texts


def normalized(events: list[tuple[str, dict]], roles: dict[str, str], dealer) -> list:
    """The events with each generated id replaced by the order it first appears in, each customer
    number by its role, and the event's own id and time left out: two runs of the same texts
    compare equal when they did the same thing."""
    labels: dict[str, str] = {
        str(dealer.account_id): "account",
        str(dealer.admin_id): "admin",
        str(dealer.kim_id): "kim",
        str(dealer.sam_id): "sam",
        str(dealer.team_id): "team",
    }
    labels |= {number: role for role, number in roles.items()}

    def label(value):
        if isinstance(value, dict):
            return {k: label(v) for k, v in value.items() if k not in ("event_id", "occurred_at")}
        if isinstance(value, list):
            return [label(v) for v in value]
        if isinstance(value, str) and value not in labels:
            try:
                UUID(value)
            except ValueError:
                return value
            labels[value] = f"id{len(labels)}"
        return labels.get(value, value) if isinstance(value, str) else value

    return [(topic, label(payload)) for topic, payload in events]


async def outcome(dealer, roles: dict[str, str]) -> dict:
    """Per customer: the conversation's status and preview, its messages and timeline in order."""
    result = {}
    for role, number in roles.items():
        conversation = await conversation_of(dealer, number)
        async with dealer.sessions() as session:
            kinds = list(
                await session.scalars(
                    select(timeline_events.c.kind)
                    .where(timeline_events.c.conversation_id == conversation.id)
                    .order_by(timeline_events.c.created_at)
                )
            )
            attachments = [
                a
                for a in await session.scalars(
                    select(messages.c.attachments)
                    .where(messages.c.conversation_id == conversation.id)
                    .order_by(messages.c.created_at, messages.c.id)
                )
                if a
            ]
        result[role] = (
            conversation.status,
            conversation.last_message_preview,
            conversation.last_inbound_at,
            await bodies(dealer, conversation.id),
            kinds,
            attachments,
        )
    return result


async def test_new_customers_and_a_reopened_conversation_in_one_batch_do_what_one_by_one_does(dealer):
    at = datetime.now(UTC) - timedelta(minutes=30)
    runs = {}
    for how in ("one by one", "batch"):
        roles = await a_world(dealer, at)
        texts = the_texts(dealer, roles, at + timedelta(minutes=1))
        before = len(await outbox_rows(dealer))
        if how == "batch":
            stored = await store(dealer, texts)
        else:
            stored = [(await store(dealer, [text]))[0] for text in texts]
        runs[how] = (
            [s is not None for s in stored],
            normalized((await outbox_rows(dealer))[before:], roles, dealer),
            await outcome(dealer, roles),
        )
        if how == "batch":
            # The whole batch again (a redelivery after a crash): nothing stored, nothing told.
            after = len(await outbox_rows(dealer))
            assert await store(dealer, texts) == [None] * len(texts)
            assert len(await outbox_rows(dealer)) == after
            assert await outcome(dealer, roles) == runs[how][2]

    assert runs["batch"] == runs["one by one"]
    stored, events, state = runs["batch"]
    assert stored == [True] * (len(stored) - 1) + [False]  # the carrier's retry
    assert [topic for topic, _ in events].count("customer.changed.v1") == NEW_CUSTOMERS
    assert state["new0"][0:4] == (
        "open",
        "new0 text 2",
        at + timedelta(minutes=1, seconds=20),
        ["new0 text 0", "new0 text 1", "new0 text 2"],
    )
    assert state["new1"][3] == ["new1 text 0", "STOP", "new1 text 2"] and state["new1"][4] == ["opted_out"]
    assert state["new0"][5] == [
        [{"url": "https://media.example/car.jpg", "content_type": "image/jpeg", "file_name": None}]
    ]
    assert state["closed"][0] == "open" and state["closed"][4] == ["reopened"]
    assert state["closed"][3] == ["hello", "closed text 0", "closed text 1", "closed text 2"]
    kim_told = [
        e for topic, e in events if topic.endswith("message_received.v1") and e["body"].startswith("kim")
    ]
    assert [e["notify_user_ids"] for e in kim_told] == [["kim"]] * 3


async def test_a_new_number_another_transaction_holds_waits_for_it_and_joins_its_customer(dealer):
    number, elsewhere = a_number(), a_number()
    at = datetime.now(UTC) - timedelta(minutes=5)
    first = [text_from(dealer, number, "from A", at), text_from(dealer, a_number(), "A's other", at)]
    second = [
        text_from(dealer, number, "from B", at + timedelta(seconds=1)),
        text_from(dealer, elsewhere, "B's other", at + timedelta(seconds=1)),
        text_from(dealer, number, "B again", at + timedelta(seconds=2)),
    ]
    before = len(await outbox_rows(dealer))
    async with dealer.sessions.begin() as session:
        assert all(await record_inbound_batch(session, first, "US"))
        other = asyncio.create_task(store(dealer, second))
        await asyncio.sleep(0.5)
        assert not other.done()  # waiting for this transaction's claim of the number
    assert all(await other)

    async with dealer.sessions() as session:
        owners = list(
            await session.scalars(
                select(customer_phones.c.customer_id).where(
                    customer_phones.c.account_id == dealer.account_id, customer_phones.c.e164 == number
                )
            )
        )
        profiles = await session.scalar(
            select(func.count()).select_from(customers).where(customers.c.account_id == dealer.account_id)
        )
    assert len(owners) == 1
    assert profiles == 3  # no profile left behind by the transaction that lost the number
    conversation = await conversation_of(dealer, number)
    assert await bodies(dealer, conversation.id) == ["from A", "from B", "B again"]
    assert await bodies(dealer, (await conversation_of(dealer, elsewhere)).id) == ["B's other"]
    events = (await outbox_rows(dealer))[before:]
    created = [e["customer_id"] for topic, e in events if topic == "customer.changed.v1"]
    assert len(created) == 3 and created.count(str(owners[0])) == 1
    received = [e for topic, e in events if topic == "conversation.message_received.v1"]
    assert [e["body"] for e in received if e["customer_phone"] == number] == ["from A", "from B", "B again"]
    assert {e["conversation_id"] for e in received if e["customer_phone"] == number} == {str(conversation.id)}


async def test_a_new_number_whose_other_transaction_rolls_back_is_created_by_the_one_waiting(dealer):
    number = a_number()
    at = datetime.now(UTC) - timedelta(minutes=5)
    losing = [text_from(dealer, number, "rolled back", at), text_from(dealer, a_number(), "also", at)]
    winning = [
        text_from(dealer, number, "kept", at + timedelta(seconds=1)),
        text_from(dealer, number, "kept too", at + timedelta(seconds=2)),
    ]
    session = dealer.sessions()
    transaction = await session.begin()
    try:
        await record_inbound_batch(session, losing, "US")
        other = asyncio.create_task(store(dealer, winning))
        await asyncio.sleep(0.5)
        assert not other.done()
    finally:
        await transaction.rollback()
        await session.close()
    assert all(await other)
    conversation = await conversation_of(dealer, number)
    assert await bodies(dealer, conversation.id) == ["kept", "kept too"]
    async with dealer.sessions() as session:
        assert (
            await session.scalar(select(func.count()).where(messages.c.account_id == dealer.account_id)) == 2
        )
        assert (
            await session.scalar(select(func.count()).where(opt_outs.c.account_id == dealer.account_id)) == 0
        )
