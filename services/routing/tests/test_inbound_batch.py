"""A batch of carrier.inbound.v1 texts as routing's consumer stores it (record_inbound_batch: a
handful of statements whatever the batch's size, a keyword and its customer's later texts one by
one), on the real PostgreSQL: the same outcome as storing the texts one by one, in their order.
New customers and reopened conversations in many: test_inbound_batch_new_customers.py."""

import json
import secrets
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from sqlalchemy import func, select, update

from routing.messaging.usecases.inbound_batch import record_inbound_batch
from routing.tables import conversations, customer_phones, messages, outbox, timeline_events
from shared.contracts.carrier import CarrierInbound
from shared.kafka.consumer import PermanentError


def text_from(dealer, number: str, body: str, at: datetime, carrier_id: str | None = None) -> CarrierInbound:
    return CarrierInbound(
        account_id=dealer.account_id,
        carrier="twilio",
        carrier_message_id=carrier_id or f"SM{uuid4().hex}",
        from_number=number,
        to_number=dealer.number,
        body=body,
        received_at=at,
    )


def a_number() -> str:
    return f"+1438{secrets.randbelow(10**7):07d}"


async def store(dealer, events: list[CarrierInbound]) -> list:
    async with dealer.sessions.begin() as session:
        return await record_inbound_batch(session, events, "US")


async def outbox_rows(dealer) -> list[tuple[str, dict]]:
    """(topic, payload) of this dealer's outbox events, in the relay's (id) order."""
    async with dealer.sessions() as session:
        rows = (await session.execute(select(outbox.c.topic, outbox.c.payload).order_by(outbox.c.id))).all()
    events = [(topic, json.loads(bytes(payload))) for topic, payload in rows]
    return [(topic, e) for topic, e in events if e.get("account_id") == str(dealer.account_id)]


async def conversation_of(dealer, number: str):
    async with dealer.sessions() as session:
        return (
            await session.execute(
                select(conversations)
                .join(customer_phones, customer_phones.c.customer_id == conversations.c.customer_id)
                .where(customer_phones.c.account_id == dealer.account_id, customer_phones.c.e164 == number)
            )
        ).one()


async def bodies(dealer, conversation_id) -> list[str]:
    async with dealer.sessions() as session:
        return list(
            await session.scalars(
                select(messages.c.body)
                .where(messages.c.conversation_id == conversation_id)
                .order_by(messages.c.created_at, messages.c.id)
            )
        )


async def test_a_new_customers_texts_in_one_batch_make_one_conversation_in_order(dealer):
    number, at = a_number(), datetime.now(UTC) - timedelta(minutes=5)
    first = text_from(dealer, number, "Is the car ready?", at)
    second = text_from(dealer, number, "I can come at 5", at + timedelta(seconds=30))
    again = second.model_copy(update={"event_id": uuid4()})  # the carrier's retry: a new event, same text
    before = len(await outbox_rows(dealer))  # the account's seeding
    stored = await store(dealer, [first, second, first, again])

    assert [s is not None for s in stored] == [True, True, False, False]
    conversation = await conversation_of(dealer, number)
    assert await bodies(dealer, conversation.id) == ["Is the car ready?", "I can come at 5"]
    assert conversation.last_message_preview == "I can come at 5"
    assert (conversation.last_inbound_at, conversation.last_activity_at) == (
        second.received_at,
        second.received_at,
    )
    events = (await outbox_rows(dealer))[before:]
    assert [topic for topic, _ in events] == [
        "customer.changed.v1",
        "conversation.message_received.v1",
        "conversation.message_received.v1",
    ]
    received = [e for topic, e in events if topic == "conversation.message_received.v1"]
    assert [e["body"] for e in received] == ["Is the car ready?", "I can come at 5"]
    assert {e["conversation_id"] for e in received} == {str(conversation.id)}
    # Nobody assigned: the account's admins are told.
    assert all(e["notify_user_ids"] == [str(dealer.admin_id)] for e in received)

    # The whole batch again (a redelivery after a crash): nothing new.
    assert await store(dealer, [first, second]) == [None, None]
    assert len(await outbox_rows(dealer)) == before + 3


async def test_each_text_tells_its_conversations_audience_and_a_closed_one_reopens_first(dealer):
    at = datetime.now(UTC) - timedelta(minutes=10)
    team_number, kim_number, closed_number = a_number(), a_number(), a_number()
    await store(dealer, [text_from(dealer, n, "hello", at) for n in (team_number, kim_number, closed_number)])
    team_conversation = await conversation_of(dealer, team_number)
    await dealer.set_assignee(team_conversation.id, team_id=dealer.team_id)
    await dealer.set_assignee((await conversation_of(dealer, kim_number)).id, user_id=dealer.kim_id)
    closed = await conversation_of(dealer, closed_number)
    async with dealer.sessions.begin() as session:
        await session.execute(
            update(conversations).where(conversations.c.id == closed.id).values(status="closed")
        )
    before = len(await outbox_rows(dealer))

    later = at + timedelta(minutes=1)
    await store(
        dealer,
        [
            text_from(dealer, team_number, "for the team", later),
            text_from(dealer, kim_number, "for Kim", later),
            text_from(dealer, closed_number, "back again", later),
        ],
    )

    events = (await outbox_rows(dealer))[before:]
    assert [(topic, e.get("body")) for topic, e in events] == [
        ("conversation.message_received.v1", "for the team"),
        ("conversation.message_received.v1", "for Kim"),
        ("conversation.status_changed.v1", None),
        ("conversation.message_received.v1", "back again"),
    ]
    assert sorted(events[0][1]["notify_user_ids"]) == sorted([str(dealer.sam_id), str(dealer.kim_id)])
    assert events[0][1]["assignee_team_id"] == str(dealer.team_id)
    assert events[1][1]["notify_user_ids"] == [str(dealer.kim_id)]
    assert events[3][1]["notify_user_ids"] == [str(dealer.admin_id)]
    reopened = await conversation_of(dealer, closed_number)
    assert (reopened.status, reopened.last_message_preview) == ("open", "back again")
    async with dealer.sessions() as session:
        kinds = list(
            await session.scalars(
                select(timeline_events.c.kind).where(timeline_events.c.conversation_id == closed.id)
            )
        )
    assert kinds == ["reopened"]


async def test_an_older_text_in_a_batch_does_not_take_over_the_preview(dealer):
    number, at = a_number(), datetime.now(UTC) - timedelta(minutes=5)
    await store(dealer, [text_from(dealer, number, "newest", at)])
    await store(dealer, [text_from(dealer, number, "older, delivered late", at - timedelta(minutes=1))])
    conversation = await conversation_of(dealer, number)
    assert (conversation.last_message_preview, conversation.last_inbound_at) == (
        "newest",
        at - timedelta(minutes=1),
    )
    assert conversation.last_activity_at == at


async def test_texts_to_an_open_conversation_in_one_batch_leave_it_as_one_by_one_does(dealer):
    """Stored together in one statement, several texts to one open conversation (one delivered
    late, one the carrier's retry of another) leave the conversation and its messages as the same
    texts stored one by one leave another customer's."""
    at = datetime.now(UTC) - timedelta(minutes=20)
    together, one_by_one = a_number(), a_number()

    def texts(number: str, tag: str) -> list[CarrierInbound]:
        newest = text_from(dealer, number, "newest", at + timedelta(minutes=3), carrier_id=f"SM{tag}n")
        return [
            text_from(dealer, number, "next", at + timedelta(minutes=1), carrier_id=f"SM{tag}x"),
            newest,
            newest.model_copy(update={"event_id": uuid4()}),  # the carrier's retry: same text
            text_from(dealer, number, "older, late", at + timedelta(minutes=2), carrier_id=f"SM{tag}o"),
        ]

    for number in (together, one_by_one):
        await store(dealer, [text_from(dealer, number, "hello", at)])
    stored_together = await store(dealer, texts(together, "t"))
    stored_one_by_one = [(await store(dealer, [text]))[0] for text in texts(one_by_one, "s")]

    assert [s is not None for s in stored_together] == [True, True, False, True]
    assert [s is not None for s in stored_one_by_one] == [True, True, False, True]
    a, b = await conversation_of(dealer, together), await conversation_of(dealer, one_by_one)
    columns = ("status", "dealership_e164", "last_activity_at", "last_inbound_at", "last_message_at")
    assert [getattr(a, c) for c in columns] == [getattr(b, c) for c in columns]
    assert (a.last_message_preview, a.last_message_direction) == ("newest", "inbound")
    assert (b.last_message_preview, b.last_message_direction) == ("newest", "inbound")
    assert a.last_message_id == stored_together[1] and b.last_message_id == stored_one_by_one[1]
    assert a.last_inbound_at == at + timedelta(minutes=2)  # the last text in order, though older
    assert a.last_activity_at == at + timedelta(minutes=3)
    assert (
        await bodies(dealer, a.id) == await bodies(dealer, b.id) == ["hello", "next", "older, late", "newest"]
    )


async def test_a_text_to_a_number_not_the_accounts_fails_the_batch_and_keeps_nothing(dealer):
    good = text_from(dealer, a_number(), "hello", datetime.now(UTC))
    before = await outbox_rows(dealer)
    stray = good.model_copy(
        update={"event_id": uuid4(), "carrier_message_id": "SMstray", "to_number": "+15145550000"}
    )
    with pytest.raises(PermanentError):
        await store(dealer, [good, stray])
    async with dealer.sessions() as session:
        assert (
            await session.scalar(select(func.count()).where(messages.c.account_id == dealer.account_id)) == 0
        )
    assert await outbox_rows(dealer) == before
    # Its claims went with the rollback: handled again (as the consumer does, one by one), the
    # good text is stored.
    assert (await store(dealer, [good]))[0] is not None


async def test_a_text_alone_is_claimed_with_its_lookup_once_and_a_stray_one_is_refused(dealer):
    text = text_from(dealer, a_number(), "alone", datetime.now(UTC))
    [stored] = await store(dealer, [text])
    assert stored is not None
    # Redelivered alone, or with another text: stored once.
    assert await store(dealer, [text]) == [None]
    assert await store(dealer, [text.model_copy(update={"carrier_message_id": "SMother"})]) == [None]
    stray = text_from(dealer, a_number(), "to a number not ours", datetime.now(UTC))
    stray = stray.model_copy(update={"to_number": "+15145550000"})
    with pytest.raises(PermanentError):
        await store(dealer, [stray])
    async with dealer.sessions() as session:
        bodies_stored = list(
            await session.scalars(select(messages.c.body).where(messages.c.account_id == dealer.account_id))
        )
    assert bodies_stored == ["alone"]


async def test_a_batch_mixing_open_conversations_new_customers_keywords_and_repeats_keeps_text_order(dealer):
    """Texts to open conversations and new customers' texts are stored together up front; a
    keyword and every later text of its customer one by one after: the outcome is still that of
    the texts in their order."""
    at = datetime.now(UTC) - timedelta(minutes=10)
    open_a, open_b, new_customer = a_number(), a_number(), a_number()
    await store(dealer, [text_from(dealer, n, "hello", at) for n in (open_a, open_b)])
    seen = text_from(dealer, open_b, "stored before", at + timedelta(seconds=1), carrier_id="SMseen")
    await store(dealer, [seen])
    before = len(await outbox_rows(dealer))

    later = at + timedelta(minutes=1)
    batch = [
        text_from(dealer, open_a, "a1", later),
        text_from(dealer, new_customer, "first ever", later + timedelta(seconds=1)),
        seen.model_copy(update={"event_id": uuid4()}),  # the carrier's retry of a stored text
        text_from(dealer, open_b, "STOP", later + timedelta(seconds=2)),
        text_from(dealer, open_a, "a2", later + timedelta(seconds=3)),
        text_from(dealer, open_b, "b after stop", later + timedelta(seconds=4)),
        text_from(dealer, new_customer, "second", later + timedelta(seconds=5)),
    ]
    stored = await store(dealer, batch)

    assert [s is not None for s in stored] == [True, True, False, True, True, True, True]
    received = [
        e for topic, e in (await outbox_rows(dealer))[before:] if topic == "conversation.message_received.v1"
    ]
    assert [e["body"] for e in received] == ["a1", "first ever", "STOP", "a2", "b after stop", "second"]
    assert [e["message_id"] for e in received] == [str(s) for s in stored if s is not None]
    a, b, new = [await conversation_of(dealer, n) for n in (open_a, open_b, new_customer)]
    assert await bodies(dealer, a.id) == ["hello", "a1", "a2"]
    assert await bodies(dealer, b.id) == ["hello", "stored before", "STOP", "b after stop"]
    assert await bodies(dealer, new.id) == ["first ever", "second"]
    assert (b.last_message_preview, b.last_inbound_at) == ("b after stop", later + timedelta(seconds=4))
    assert (a.last_message_preview, a.last_inbound_at) == ("a2", later + timedelta(seconds=3))
    async with dealer.sessions() as session:
        kinds = list(
            await session.scalars(
                select(timeline_events.c.kind).where(timeline_events.c.conversation_id == b.id)
            )
        )
    assert "opted_out" in kinds
