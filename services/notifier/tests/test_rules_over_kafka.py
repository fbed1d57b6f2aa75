"""Each rule end to end inside the notifier: an event on the real Kafka topic → the consumer →
PostgreSQL → the feed API (and the SMTP server for e-mail)."""

import asyncio
from uuid import uuid4

from aiokafka import AIOKafkaConsumer

from shared.contracts.conversation import DeliveryFailed, NoteAdded
from shared.contracts.export import ExportCompleted
from shared.contracts.topics import (
    CONVERSATION_ASSIGNED,
    CONVERSATION_NOTE_ADDED,
    EXPORT_COMPLETED,
    MESSAGE_DELIVERY_FAILED,
    MESSAGE_RECEIVED,
)
from shared.kafka.topics import topic_name


async def test_team_message_reaches_each_member_once_and_a_replay_changes_nothing(
    nt, kafka, http, dealer, db
):
    sam, kim = dealer.users["sam"], dealer.users["kim"]
    event = nt.message_event(dealer.account_id, [sam, kim], assignee_team_id=dealer.team_id)
    await kafka.publish(MESSAGE_RECEIVED, event)
    cid = str(event.conversation_id)

    async def both_told():
        found = [
            nt.of_event(await nt.feed(http, dealer.headers(w)), "conversation_id", cid)
            for w in ("sam", "kim")
        ]
        return found if all(found) else None

    sam_items, kim_items = await nt.eventually(both_told)
    assert sam_items[0]["kind"] == "message_received"
    assert sam_items[0]["title"] == "New message from Marie Tremblay"
    assert sam_items[0]["body"] == event.body
    assert kim_items[0]["id"] != sam_items[0]["id"] and kim_items[0]["kind"] == "message_received"
    # The same event again (a Kafka redelivery, a replayed topic): nothing new.
    await kafka.publish(MESSAGE_RECEIVED, event)
    marker = nt.message_event(dealer.account_id, [sam])
    await kafka.publish(MESSAGE_RECEIVED, marker)  # a later event, to know the replay was handled
    await nt.eventually(lambda: _has(nt, http, dealer.headers("sam"), str(marker.conversation_id)))
    await asyncio.sleep(0.5)
    for who in ("sam", "kim"):
        assert len(nt.of_event(await nt.feed(http, dealer.headers(who)), "conversation_id", cid)) == 1
    for who in ("alex", "lou"):
        assert nt.of_event(await nt.feed(http, dealer.headers(who)), "conversation_id", cid) == []
    stored = await db.fetchval(
        "SELECT count(*) FROM notifier.notifications WHERE source_event_id = $1", event.event_id
    )
    assert stored == 2


async def _has(nt, http, headers, conversation_id: str) -> bool:
    return bool(nt.of_event(await nt.feed(http, headers), "conversation_id", conversation_id))


async def test_bulk_assignment_to_a_team_is_one_notification_per_member_listing_all_and_never_the_actor(
    nt, kafka, http, dealer
):
    sam, kim = dealer.users["sam"], dealer.users["kim"]
    ids = [uuid4() for _ in range(40)]
    event = nt.assigned_event(
        dealer.account_id,
        actor=kim,
        notify=[sam, kim],
        conversation_ids=ids,
        assignee_team_id=dealer.team_id,
        assignee_name="Service",
        actor_name="Kim Lee",
        note="Weekend backlog, please call them all",
    )
    await kafka.publish(CONVERSATION_ASSIGNED, event)

    async def sam_told():
        return [i for i in await nt.feed(http, dealer.headers("sam")) if i["kind"] == "conversation_assigned"]

    (item,) = await nt.eventually(sam_told)
    assert item["title"] == "Kim Lee assigned 40 conversations to Service"
    assert item["body"] == "Weekend backlog, please call them all"
    assert item["data"]["conversation_ids"] == [str(i) for i in ids]
    assert item["data"]["count"] == 40
    await asyncio.sleep(0.5)
    assert [
        i for i in await nt.feed(http, dealer.headers("kim")) if i["kind"] == "conversation_assigned"
    ] == []


async def test_mentions_tell_each_mentioned_colleague_not_the_author(nt, kafka, http, dealer):
    alex, sam, lou = dealer.users["alex"], dealer.users["sam"], dealer.users["lou"]
    conversation = uuid4()
    event = NoteAdded(
        account_id=dealer.account_id,
        conversation_ids=[conversation],
        note_ids=[uuid4()],
        actor_user_id=alex,
        actor_name="Alex Admin",
        body="@Sam @Lou @Alex please call back before noon",
        mentioned_user_ids=[sam, lou, alex],
    )
    await kafka.publish(CONVERSATION_NOTE_ADDED, event)

    async def both():
        found = [
            nt.of_event(await nt.feed(http, dealer.headers(w)), "conversation_id", str(conversation))
            for w in ("sam", "lou")
        ]
        return found if all(found) else None

    sam_items, lou_items = await nt.eventually(both)
    assert sam_items[0]["kind"] == "mentioned"
    assert sam_items[0]["title"] == "Alex Admin mentioned you in a note"
    assert "please call back" in lou_items[0]["body"]
    assert (
        nt.of_event(await nt.feed(http, dealer.headers("alex")), "conversation_id", str(conversation)) == []
    )


async def test_undelivered_text_tells_its_sender_the_reason_in_words(nt, kafka, http, dealer):
    kim = dealer.users["kim"]
    event = DeliveryFailed(
        account_id=dealer.account_id,
        conversation_id=uuid4(),
        message_id=uuid4(),
        sender_user_id=kim,
        customer_name="Marie Tremblay",
        body="Your car is ready",
        status="undelivered",
        error_category="landline",
        error_code="30006",
    )
    automated = event.model_copy(update={"event_id": uuid4(), "message_id": uuid4(), "sender_user_id": None})
    await kafka.publish(MESSAGE_DELIVERY_FAILED, automated)
    await kafka.publish(MESSAGE_DELIVERY_FAILED, event)

    async def told():
        return nt.of_event(await nt.feed(http, dealer.headers("kim")), "message_id", str(event.message_id))

    (item,) = await nt.eventually(told)
    assert item["kind"] == "delivery_failed"
    assert item["title"] == "Your message to Marie Tremblay was not delivered"
    assert "the number is a landline" in item["body"]
    for who in ("alex", "sam", "kim", "lou"):
        assert (
            nt.of_event(await nt.feed(http, dealer.headers(who)), "message_id", str(automated.message_id))
            == []
        )


async def test_export_link_is_emailed_to_the_requester_and_not_shown_in_the_app(
    nt, kafka, http, dealer, smtp, db
):
    lou = dealer.users["lou"]
    event = ExportCompleted(
        account_id=dealer.account_id,
        job_id=uuid4(),
        conversation_id=uuid4(),
        requested_by_user_id=lou,
        download_url=f"https://exports.test/{uuid4().hex}.pdf?sig=a&b=1",
    )
    await kafka.publish(EXPORT_COMPLETED, event)
    address = dealer.emails["lou"]

    async def delivered():
        return smtp.mailbox.to(address)

    (mail,) = await nt.eventually(delivered)
    assert mail["Subject"] == "Your conversation export is ready"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert event.download_url in text
    assert event.download_url.replace("&", "&amp;") in html
    assert await nt.feed(http, dealer.headers("lou")) == []
    assert await nt.unread(http, dealer.headers("lou")) == 0
    # Replayed: still one e-mail.
    await kafka.publish(EXPORT_COMPLETED, event)
    await asyncio.sleep(1.5)
    assert len(smtp.mailbox.to(address)) == 1
    row = await db.fetchrow(
        "SELECT status, to_address, attempts FROM notifier.email_outbox WHERE source_event_id = $1",
        event.event_id,
    )
    assert (row["status"], row["to_address"], row["attempts"]) == ("sent", address, 1)


async def test_failed_export_emails_the_reason(nt, kafka, dealer, smtp):
    event = ExportCompleted(
        account_id=dealer.account_id,
        job_id=uuid4(),
        conversation_id=uuid4(),
        requested_by_user_id=dealer.users["sam"],
        failed_reason="the conversation has no messages in that date range",
    )
    await kafka.publish(EXPORT_COMPLETED, event)

    async def delivered():
        return smtp.mailbox.to(dealer.emails["sam"])

    (mail,) = await nt.eventually(delivered)
    assert mail["Subject"] == "Your conversation export failed"
    assert "no messages in that date range" in mail.get_body(("plain",)).get_content()


async def test_an_unusable_event_is_dead_lettered_and_the_next_one_still_handled(
    nt, kafka, http, dealer, settings
):
    topic = topic_name(settings, CONVERSATION_ASSIGNED.name)
    await kafka.producer.send_and_wait(topic, b'{"account_id": "not-a-uuid"}', key=b"k")
    sam = dealer.users["sam"]
    good = nt.assigned_event(dealer.account_id, dealer.users["alex"], [sam], assignee_user_id=sam)
    await kafka.publish(CONVERSATION_ASSIGNED, good)

    async def handled():
        return nt.of_event(
            await nt.feed(http, dealer.headers("sam")), "conversation_id", str(good.conversation_ids[0])
        )

    assert await nt.eventually(handled)
    consumer = AIOKafkaConsumer(
        f"{topic}.dlq", bootstrap_servers=settings.kafka_bootstrap_servers, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), 30)
    finally:
        await consumer.stop()
    assert record.value == b'{"account_id": "not-a-uuid"}'
    assert dict(record.headers)["x-dead-letter-error"] == b"ValidationError"


async def test_an_assignee_mentioned_in_the_assignment_note_is_told_once_others_mentioned_are_told(
    nt, kafka, http, dealer
):
    alex, sam, kim = (dealer.users[w] for w in ("alex", "sam", "kim"))
    assignment = nt.assigned_event(
        dealer.account_id, alex, [sam], assignee_user_id=sam, note="@sam @kim the customer is upset"
    )
    note = NoteAdded(
        account_id=dealer.account_id,
        occurred_at=assignment.occurred_at,
        conversation_ids=assignment.conversation_ids,
        note_ids=[uuid4()],
        actor_user_id=alex,
        actor_name="Alex Admin",
        body="@sam @kim the customer is upset",
        mentioned_user_ids=[sam, kim],
    )
    cid = str(assignment.conversation_ids[0])
    await kafka.publish(CONVERSATION_ASSIGNED, assignment)

    async def sam_assigned():
        return nt.of_event(await nt.feed(http, dealer.headers("sam")), "conversation_id", cid)

    assert await nt.eventually(sam_assigned)
    await kafka.publish(CONVERSATION_NOTE_ADDED, note)

    async def kim_mentioned():
        return nt.of_event(await nt.feed(http, dealer.headers("kim")), "conversation_id", cid)

    (kim_item,) = await nt.eventually(kim_mentioned)
    assert kim_item["kind"] == "mentioned"
    await asyncio.sleep(0.5)
    sam_items = nt.of_event(await nt.feed(http, dealer.headers("sam")), "conversation_id", cid)
    assert [i["kind"] for i in sam_items] == ["conversation_assigned"]
    assert sam_items[0]["body"] == "@sam @kim the customer is upset"
