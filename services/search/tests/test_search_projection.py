"""The projection follows events the way they really arrive: redelivered, replayed, late. An
event applied twice changes nothing; an older version of a record arriving after a newer one is
ignored; a merged profile's conversation stays searchable, archived, under the surviving customer."""

import asyncio
import json
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from search import projection, queries
from search.consumers.feeds import handle_batch
from shared.contracts.conversation import ConversationStatusChanged, MessageSent
from shared.contracts.customer import ConversationMerged
from shared.contracts.topics import (
    CONVERSATION_MERGED,
    CONVERSATION_STATUS_CHANGED,
    CUSTOMER_CHANGED,
    DMS_EVENTS,
    MESSAGE_RECEIVED,
    MESSAGE_SENT,
)
from shared.kafka.topics import topic_name


async def _handled(st, db, event_id) -> None:
    """Waits until the consumer has applied (or skipped) the event: its id is claimed."""

    async def claimed():
        return await db.fetchval("SELECT count(*) FROM search.processed_events WHERE event_id = $1", event_id)

    assert await st.eventually(claimed)


async def _found(st, http, account, q, **params):
    return (await st.search(http, account, q, **params))["results"]


async def test_a_replayed_message_is_indexed_once(st, kafka, http, account, db):
    customer, conversation = uuid4(), uuid4()
    event = st.events.received(account, customer, conversation, "Ma transmission glisse", "+14385550111")
    for _ in range(3):
        await kafka.publish(MESSAGE_RECEIVED, event)
    assert await st.eventually(lambda: _found(st, http, account, "transmission"))
    (result,) = (await st.search(http, account, "transmission"))["results"]
    assert [m["kind"] for m in result["matches"]] == ["message"]
    assert (
        await db.fetchval("SELECT count(*) FROM search.messages WHERE message_id = $1", event.message_id) == 1
    )


async def test_an_older_profile_arriving_late_does_not_overwrite_the_newer(st, kafka, http, account, db):
    customer = uuid4()
    now = datetime.now(UTC)
    newer = st.events.customer(account, customer, "Julie", "Gagnon", ["+14505550123"], occurred_at=now)
    older = st.events.customer(
        account, customer, "Julie", "Lavoie", ["+14505550999"], occurred_at=now - timedelta(hours=1)
    )
    await kafka.publish(CUSTOMER_CHANGED, newer)
    assert await st.eventually(lambda: _found(st, http, account, "gagnon"))
    await kafka.publish(CUSTOMER_CHANGED, older)
    await _handled(st, db, older.event_id)
    assert (await st.search(http, account, "lavoie"))["results"] == []
    assert (await st.search(http, account, "5550999"))["results"] == []
    (result,) = (await st.search(http, account, "gagnon"))["results"]
    assert result["phones"] == [{"e164": "+14505550123", "kind": "mobile"}]


async def test_an_older_dms_version_arriving_late_is_ignored(st, kafka, http, account, db):
    customer, dms_id = uuid4(), f"D-{uuid4().hex[:8]}"
    await kafka.publish(
        CUSTOMER_CHANGED, st.events.customer(account, customer, "Luc", "Roy", dms_customer_id=dms_id)
    )

    def payment(amount: str) -> dict:
        return {"payment_id": "P-77", "dms_customer_id": dms_id, "amount": amount, "currency": "CAD"}

    await kafka.publish(
        DMS_EVENTS, st.events.dms(account, "payment.recorded", "P-77", 5, payment("99.95")), key=dms_id
    )
    assert await st.eventually(lambda: _found(st, http, account, "99.95"))
    # Version 4, published after version 5 (the DMS resent an old copy).
    stale_payment = st.events.dms(account, "payment.recorded", "P-77", 4, payment("10.00"))
    await kafka.publish(DMS_EVENTS, stale_payment, key=dms_id)
    # Version 6 of an appointment, then version 2 of the same appointment.
    appointment = {
        "appointment_id": "A-1",
        "dms_customer_id": dms_id,
        "starts_at": "2026-12-01T10:00:00-05:00",
    }
    await kafka.publish(
        DMS_EVENTS,
        st.events.dms(
            account, "appointment.changed", "A-1", 6, {**appointment, "appointment_type": "Recall"}
        ),
        key=dms_id,
    )
    stale_appointment = st.events.dms(
        account, "appointment.booked", "A-1", 2, {**appointment, "appointment_type": "Alignment"}
    )
    await kafka.publish(DMS_EVENTS, stale_appointment, key=dms_id)
    assert await st.eventually(lambda: _found(st, http, account, "recall"))
    for stale in (stale_payment, stale_appointment):
        await _handled(st, db, UUID(json.loads(stale)["event_id"]))
    assert (await st.search(http, account, "10.00"))["results"] == []
    assert (await st.search(http, account, "alignment"))["results"] == []
    assert st.customer_ids(await st.search(http, account, "99.95")) == [str(customer)]


@pytest.mark.parametrize("plan", ["collect", "walk", "mixed"])
async def test_status_filter_and_a_late_older_status_change(st, kafka, http, account, db, plan, monkeypatch):
    if plan != "collect":
        monkeypatch.setattr(
            queries, "_estimated_rows", st.as_if_common("message" if plan == "mixed" else None)
        )
    customer, conversation = uuid4(), uuid4()
    await kafka.publish(
        MESSAGE_RECEIVED,
        st.events.received(account, customer, conversation, "Pneus d'hiver svp", "+15145550142"),
    )
    assert await st.eventually(lambda: _found(st, http, account, "hiver"))
    now = datetime.now(UTC)
    closed = ConversationStatusChanged(
        account_id=account.account_id,
        conversation_id=conversation,
        status="closed",
        previous_status="open",
        occurred_at=now,
    )
    late_reopen = ConversationStatusChanged(
        account_id=account.account_id,
        conversation_id=conversation,
        status="open",
        previous_status="closed",
        occurred_at=now - timedelta(minutes=5),
    )
    await kafka.publish(CONVERSATION_STATUS_CHANGED, closed)
    assert await st.eventually(lambda: _found(st, http, account, "hiver", status="closed"))
    await kafka.publish(CONVERSATION_STATUS_CHANGED, late_reopen)
    await _handled(st, db, late_reopen.event_id)
    assert (await st.search(http, account, "hiver", status="open"))["results"] == []
    assert st.customer_ids(await st.search(http, account, "hiver", status="closed")) == [str(customer)]
    assert st.customer_ids(await st.search(http, account, "hiver", status="all")) == [str(customer)]
    # A customer-level match follows the same filter.
    assert (await st.search(http, account, "5550142", status="open"))["results"] == []


async def test_a_status_change_before_the_first_message_is_kept_by_the_message(st, kafka, http, account, db):
    """Status changes and messages travel on different topics: a close can be applied first, and
    the message then takes the conversation's status, not "open"."""
    customer, conversation = uuid4(), uuid4()
    closed = ConversationStatusChanged(
        account_id=account.account_id,
        conversation_id=conversation,
        status="closed",
        previous_status="open",
        occurred_at=datetime.now(UTC),
    )
    await kafka.publish(CONVERSATION_STATUS_CHANGED, closed)
    await _handled(st, db, closed.event_id)
    await kafka.publish(
        MESSAGE_RECEIVED,
        st.events.received(account, customer, conversation, "Courroie de distribution", "+15145550143"),
    )
    assert await st.eventually(lambda: _found(st, http, account, "courroie", status="closed"))
    assert (await st.search(http, account, "courroie", status="open"))["results"] == []


@pytest.mark.parametrize("plan", ["collect", "walk", "mixed"])
async def test_a_merged_profile_conversation_is_archived_and_found_under_the_surviving_customer(
    st, kafka, http, account, plan, monkeypatch
):
    if plan != "collect":
        monkeypatch.setattr(
            queries, "_estimated_rows", st.as_if_common("message" if plan == "mixed" else None)
        )
    survivor, merged = uuid4(), uuid4()
    active, other = uuid4(), uuid4()
    await kafka.publish(
        CUSTOMER_CHANGED, st.events.customer(account, survivor, "Chloé", "Bélanger", ["+15145550177"])
    )
    await kafka.publish(
        CUSTOMER_CHANGED, st.events.customer(account, merged, "Chloe", "Belanger", ["+14385550188"])
    )
    await kafka.publish(
        MESSAGE_RECEIVED, st.events.received(account, survivor, active, "Is my Civic ready?", "+15145550177")
    )
    await kafka.publish(
        MESSAGE_SENT,
        MessageSent(
            account_id=account.account_id,
            conversation_id=other,
            customer_id=merged,
            message_id=uuid4(),
            body="Your windshield quote is 640 dollars",
            created_at=datetime.now(UTC),
        ),
    )
    assert await st.eventually(lambda: _found(st, http, account, "windshield"))
    # Routing merges them: the merged-away profile keeps no phone, its conversation is archived.
    await kafka.publish(
        CUSTOMER_CHANGED,
        st.events.customer(
            account, merged, "Chloe", "Belanger", [], merged_into_customer_id=survivor, reason="merged"
        ),
    )
    await kafka.publish(
        CONVERSATION_MERGED,
        ConversationMerged(
            account_id=account.account_id,
            archived_conversation_id=other,
            surviving_conversation_id=active,
            moved_conversation_ids=[other],
            surviving_customer_id=survivor,
            merged_customer_id=merged,
            phone_e164="+15145550177",
        ),
    )

    async def archived_under_survivor():
        page = await st.search(http, account, "windshield", status="closed")
        return page["results"] if st.customer_ids(page) == [str(survivor)] else None

    (result,) = await st.eventually(archived_under_survivor)
    (match,) = result["matches"]
    assert match["conversation_id"] == str(other) and match["detail"] == "outbound"
    assert (await st.search(http, account, "windshield", status="open"))["results"] == []

    # The merged-away profile's change comes on the customers' feed, which search takes in its
    # own batches: it may be applied a little after the merge.
    async def merged_profile_gone():
        by_name = st.customer_ids(await st.search(http, account, "belanger"))
        by_number = (await st.search(http, account, "5550188"))["results"]
        return (by_name, by_number) if by_number == [] and len(by_name) == 1 else None

    # One customer, whichever profile's name was typed; the merged-away number finds nothing.
    assert await st.eventually(merged_profile_gone) == ([str(survivor)], [])
    (civic,) = (await st.search(http, account, "civic", status="open"))["results"]
    assert civic["customer_id"] == str(survivor)


@pytest.mark.parametrize("plan", ["collect", "walk", "mixed"])
async def test_pages_follow_last_activity_without_repeats_or_gaps(
    st, kafka, http, account, plan, monkeypatch
):
    if plan != "collect":
        monkeypatch.setattr(
            queries, "_estimated_rows", st.as_if_common("message" if plan == "mixed" else None)
        )
    start = datetime.now(UTC) - timedelta(days=1)
    customers = [uuid4() for _ in range(7)]
    for i, customer in enumerate(customers):
        await kafka.publish(
            MESSAGE_RECEIVED,
            st.events.received(
                account,
                customer,
                uuid4(),
                "Vidange d'huile demain?",
                f"+1514555{i:04d}",
                at=start + timedelta(i),
            ),
        )

    async def all_seven():
        return len((await st.search(http, account, "vidange", limit=100))["results"]) == 7

    assert await st.eventually(all_seven)
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = await st.search(http, account, "vidange", **params)
        seen += st.customer_ids(page)
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [str(c) for c in reversed(customers)]


async def test_an_unusable_dms_event_is_dead_lettered_and_the_next_one_indexed(
    st, kafka, http, account, settings
):
    customer, dms_id = uuid4(), f"D-{uuid4().hex[:8]}"
    await kafka.publish(
        CUSTOMER_CHANGED, st.events.customer(account, customer, "Léa", "Simard", dms_customer_id=dms_id)
    )
    bad = st.events.dms(
        account, "payment.recorded", "P-bad", 1, {"payment_id": "P-bad", "dms_customer_id": dms_id}
    )
    await kafka.publish(DMS_EVENTS, bad, key=dms_id)  # no amount, no currency
    await kafka.publish(DMS_EVENTS, b"{not json", key=dms_id)
    good = {"payment_id": "P-ok", "dms_customer_id": dms_id, "amount": "318.40", "currency": "CAD"}
    await kafka.publish(DMS_EVENTS, st.events.dms(account, "payment.recorded", "P-ok", 1, good), key=dms_id)
    assert await st.eventually(lambda: _found(st, http, account, "318.40"))

    consumer = AIOKafkaConsumer(
        topic_name(settings, DMS_EVENTS.dead_letter),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        group_id=None,
    )
    await consumer.start()
    try:
        letters = []
        deadline = asyncio.get_running_loop().time() + 20
        while len([v for v in letters if v in (bad, b"{not json")]) < 2:
            assert asyncio.get_running_loop().time() < deadline, (
                "both unusable events should be dead-lettered"
            )
            batch = await consumer.getmany(timeout_ms=500)
            letters += [record.value for records in batch.values() for record in records]
    finally:
        await consumer.stop()


async def test_a_batch_of_texts_is_claimed_together_and_each_text_applied_once(st, settings, account, db):
    """The inbound-rate feeds' batches (one claim statement, the texts in one round trip): a text
    seen before is not applied again, nor one twice in the same batch, and texts in and out of
    the same conversation are all kept."""
    engine = create_async_engine(settings.database_url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    customer, conversation = uuid4(), uuid4()
    seen = st.events.received(account, customer, conversation, "already seen", "+14385550177")
    received, sent = "search.message_received", "search.message_sent"
    try:
        await handle_batch(sessions, received, projection.apply_message_received, [seen])
        # The same event again, as if it now carried another message: its claim keeps it out.
        replayed = seen.model_copy(update={"message_id": uuid4(), "body": "replayed"})
        first = st.events.received(account, customer, conversation, "first of the batch", "+14385550177")
        second = st.events.received(account, customer, conversation, "second of the batch", "+14385550177")
        await handle_batch(
            sessions, received, projection.apply_message_received, [replayed, first, second, first]
        )
        reply = MessageSent(
            account_id=account.account_id,
            conversation_id=conversation,
            customer_id=customer,
            message_id=uuid4(),
            body="a reply",
            created_at=datetime.now(UTC),
        )
        await handle_batch(sessions, sent, projection.apply_message_sent, [reply, reply])
    finally:
        await engine.dispose()
    rows = await db.fetch(
        "SELECT body, direction FROM search.messages WHERE conversation_id = $1", conversation
    )
    assert sorted((row["body"], row["direction"]) for row in rows) == [
        ("a reply", "outbound"),
        ("already seen", "inbound"),
        ("first of the batch", "inbound"),
        ("second of the batch", "inbound"),
    ]
