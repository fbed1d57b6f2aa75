"""Outcomes of outbound texts: notifier's reports and carriers' receipts move a message forward
only, keep the plain error category beside the carrier's code, and a landline result blocks the
composer."""

import asyncio
import json
from uuid import UUID, uuid4

import pytest
from sqlalchemy import func, select, update

from routing.domain.outbound import UnknownCarrierStatus, introduced, status_from_carrier
from routing.messaging.usecases.outbound_status import (
    MessageNotYetKnown,
    record_carrier_status,
    record_outbound_status,
)
from routing.tables import account_phone_numbers, conversations, customer_phones, messages, outbox
from shared.contracts.carrier import CarrierStatus
from shared.contracts.messaging import OutboundStatusChanged
from shared.kafka.consumer import PermanentError


async def sent_message(client, dealer, ago) -> tuple[UUID, UUID]:
    """A staff reply stored as queued: (conversation id, message id)."""
    conversation = await dealer.receive(ago(1))
    response = await client.post(
        f"/api/v1/conversations/{conversation}/messages", headers=dealer.sam, json={"body": "Ready!"}
    )
    assert response.status_code == 201, response.text
    return conversation, UUID(response.json()["message"]["id"])


def notifier_says(dealer, message_id: UUID, status: str, **fields) -> OutboundStatusChanged:
    return OutboundStatusChanged(account_id=dealer.account_id, message_id=message_id, status=status, **fields)


def carrier_says(dealer, carrier_message_id: str, status: str, carrier="twilio", **fields) -> CarrierStatus:
    return CarrierStatus(
        account_id=dealer.account_id,
        carrier=carrier,
        carrier_message_id=carrier_message_id,
        status=status,
        **fields,
    )


async def record(dealer, event) -> bool:
    async with dealer.sessions.begin() as session:
        if isinstance(event, CarrierStatus):
            return await record_carrier_status(session, event)
        return await record_outbound_status(session, event)


async def stored(dealer, message_id: UUID):
    async with dealer.sessions() as session:
        return (await session.execute(select(messages).where(messages.c.id == message_id))).one()


async def delivery_failures(dealer, message_id: UUID) -> list[dict]:
    async with dealer.sessions() as session:
        payloads = await session.scalars(
            select(outbox.c.payload).where(outbox.c.topic == "conversation.delivery_failed.v1")
        )
        events = [json.loads(bytes(p)) for p in payloads]
    return [e for e in events if e["message_id"] == str(message_id)]


def test_carrier_status_words_map_to_our_lifecycle():
    assert status_from_carrier("twilio", "accepted") == "queued"
    assert status_from_carrier("twilio", "read") == "delivered"
    assert status_from_carrier("twilio", "canceled") == "failed"
    assert status_from_carrier("telnyx", "sending_failed") == "failed"
    assert status_from_carrier("telnyx", "delivery_failed") == "undelivered"
    assert status_from_carrier("telnyx", "delivery_unconfirmed") == "sent"
    assert status_from_carrier("telnyx", "Delivered") == "delivered"
    # Some parts of a long text arrived: the customer has something to read.
    assert status_from_carrier("twilio", "partially_delivered") == "delivered"
    # The validity period ran out before the handset took it.
    assert status_from_carrier("telnyx", "expired") == "undelivered"


def test_every_status_word_telnyx_documents_is_known():
    # The eight values of Telnyx's `to[].status` (its API reference).
    telnyx_words = (
        "queued",
        "sending",
        "sent",
        "expired",
        "sending_failed",
        "delivery_unconfirmed",
        "delivered",
        "delivery_failed",
    )
    for word in telnyx_words:
        status_from_carrier("telnyx", word)
    with pytest.raises(UnknownCarrierStatus):
        status_from_carrier("telnyx", "teleported")


async def test_a_status_never_moves_backwards(client, dealer, ago):
    _, message_id = await sent_message(client, dealer, ago)
    assert await record(dealer, notifier_says(dealer, message_id, "delivered"))
    assert not await record(dealer, notifier_says(dealer, message_id, "sent"))
    assert not await record(dealer, notifier_says(dealer, message_id, "failed", error_category="unknown"))
    row = await stored(dealer, message_id)
    assert (row.status, row.error_category) == ("delivered", None)
    assert await delivery_failures(dealer, message_id) == []


async def test_the_first_outcome_stays(client, dealer, ago):
    _, message_id = await sent_message(client, dealer, ago)
    assert await record(
        dealer,
        notifier_says(
            dealer,
            message_id,
            "failed",
            error_category="carrier_filtered",
            error_code="30007",
            error_message="Message filtered",
        ),
    )
    assert not await record(dealer, notifier_says(dealer, message_id, "delivered"))
    row = await stored(dealer, message_id)
    assert (row.status, row.error_category, row.error_code, row.error_message) == (
        "failed",
        "carrier_filtered",
        "30007",
        "Message filtered",
    )
    # The sender hears about it once.
    [failure] = await delivery_failures(dealer, message_id)
    assert (failure["sender_user_id"], failure["error_category"], failure["status"]) == (
        str(dealer.sam_id),
        "carrier_filtered",
        "failed",
    )


async def test_notifier_then_carrier_receipts_and_the_timeline_shows_the_outcome(client, dealer, ago):
    conversation, message_id = await sent_message(client, dealer, ago)
    carrier_id = f"SM{uuid4().hex}"
    assert await record(dealer, notifier_says(dealer, message_id, "sending"))
    assert await record(
        dealer, notifier_says(dealer, message_id, "sent", carrier="twilio", carrier_message_id=carrier_id)
    )
    assert await record(
        dealer,
        carrier_says(
            dealer,
            carrier_id,
            "undelivered",
            error_code="30003",
            error_category="unreachable",
            error_message="x",
        ),
    )
    row = await stored(dealer, message_id)
    assert (row.status, row.carrier, row.carrier_message_id, row.error_category) == (
        "undelivered",
        "twilio",
        carrier_id,
        "unreachable",
    )
    items = (await client.get(f"/api/v1/conversations/{conversation}/timeline", headers=dealer.sam)).json()[
        "items"
    ]
    shown = items[-1]["message"]
    assert (shown["status"], shown["error_category"], shown["error_code"]) == (
        "undelivered",
        "unreachable",
        "30003",
    )
    assert "cannot be reached" in shown["error_text"]


async def test_a_landline_result_marks_the_number_and_blocks_the_composer(client, dealer, ago):
    async with dealer.sessions.begin() as session:
        await session.execute(
            update(account_phone_numbers)
            .where(account_phone_numbers.c.e164 == dealer.number)
            .values(carrier="telnyx")
        )
    conversation, message_id = await sent_message(client, dealer, ago)
    assert (await stored(dealer, message_id)).carrier == "telnyx"
    carrier_id = f"tx-{uuid4()}"
    await record(
        dealer, notifier_says(dealer, message_id, "sent", carrier="telnyx", carrier_message_id=carrier_id)
    )
    await record(
        dealer,
        carrier_says(
            dealer,
            carrier_id,
            "delivery_failed",
            carrier="telnyx",
            error_code="40300",
            error_category="landline",
        ),
    )
    row = await stored(dealer, message_id)
    assert (row.status, row.error_category) == ("undelivered", "landline")
    async with dealer.sessions() as session:
        kind = await session.scalar(
            select(customer_phones.c.kind).where(customer_phones.c.e164 == row.to_e164)
        )
    assert kind == "landline"
    # The profile changed: search and the others hear of it, once.
    async with dealer.sessions() as session:
        customer_id = await session.scalar(
            select(conversations.c.customer_id).where(conversations.c.id == conversation)
        )
        payloads = await session.scalars(
            select(outbox.c.payload).where(
                outbox.c.topic == "customer.changed.v1", outbox.c.key == str(customer_id)
            )
        )
        changes = [json.loads(bytes(p)) for p in payloads]
    assert [phone["kind"] for phone in changes[-1]["phones"]] == ["landline"]
    await record(dealer, notifier_says(dealer, message_id, "failed", error_category="landline"))
    async with dealer.sessions() as session:
        count = await session.scalar(
            select(func.count()).where(
                outbox.c.topic == "customer.changed.v1", outbox.c.key == str(customer_id)
            )
        )
    assert count == len(changes)
    composer = (await client.get(f"/api/v1/conversations/{conversation}/composer", headers=dealer.sam)).json()
    assert (composer["can_send"], composer["reason"]) == (False, "landline")
    again = await client.post(
        f"/api/v1/conversations/{conversation}/messages", headers=dealer.sam, json={"body": "Hello?"}
    )
    assert again.status_code == 409


async def test_events_are_handled_once(client, dealer, ago):
    _, message_id = await sent_message(client, dealer, ago)
    event = notifier_says(dealer, message_id, "failed", error_category="wrong_number")
    assert await record(dealer, event)
    assert not await record(dealer, event)
    assert len(await delivery_failures(dealer, message_id)) == 1


async def test_concurrent_reports_end_at_the_furthest_status(client, dealer, ago):
    _, message_id = await sent_message(client, dealer, ago)
    statuses = ["sending", "delivered", "queued", "sent", "scheduled", "sent", "sending"] * 3
    moved = await asyncio.gather(*(record(dealer, notifier_says(dealer, message_id, s)) for s in statuses))
    assert (await stored(dealer, message_id)).status == "delivered"
    assert sum(moved) <= 4  # at most scheduled, sending, sent, delivered, each once


async def test_a_stale_report_still_brings_the_carrier_id(client, dealer, ago):
    _, message_id = await sent_message(client, dealer, ago)
    await record(dealer, notifier_says(dealer, message_id, "delivered"))
    assert not await record(
        dealer, notifier_says(dealer, message_id, "sent", carrier="twilio", carrier_message_id="SM1")
    )
    row = await stored(dealer, message_id)
    assert (row.status, row.carrier, row.carrier_message_id) == ("delivered", "twilio", "SM1")


async def test_statuses_of_unknown_messages_are_retried_then_dead_lettered(client, dealer, other_dealer, ago):
    _, theirs = await sent_message(client, other_dealer, ago)
    # notifier's report of a message unknown, or another account's: the consumer retries.
    for event in (
        notifier_says(dealer, uuid4(), "delivered"),
        notifier_says(dealer, theirs, "delivered"),
    ):
        with pytest.raises(MessageNotYetKnown):
            await record(dealer, event)
    assert not issubclass(MessageNotYetKnown, PermanentError)
    assert (await stored(other_dealer, theirs)).status == "queued"


async def test_an_unknown_carrier_status_word_is_noted_on_the_message(client, dealer, ago):
    """Not guessed at, and not lost in a dead-letter topic nobody connects to the text: the
    message keeps its status and shows the word as the carrier's wording."""
    _, message_id = await sent_message(client, dealer, ago)
    carrier_id = f"SM{uuid4().hex}"
    await record(
        dealer, notifier_says(dealer, message_id, "sent", carrier="twilio", carrier_message_id=carrier_id)
    )
    assert not await record(dealer, carrier_says(dealer, carrier_id, "teleported"))
    row = await stored(dealer, message_id)
    assert row.status == "sent"
    assert "teleported" in row.error_message
    # A later receipt we know still moves the message on.
    assert await record(dealer, carrier_says(dealer, carrier_id, "delivered"))
    assert (await stored(dealer, message_id)).status == "delivered"
    # Of a message we do not have (yet): kept like any early receipt, not dead-lettered.
    assert not await record(dealer, carrier_says(dealer, "SM-never-seen-either", "teleported"))


async def test_a_carrier_receipt_finds_its_message_only_in_its_own_account(client, dealer, other_dealer, ago):
    _, mine = await sent_message(client, dealer, ago)
    _, theirs = await sent_message(client, other_dealer, ago)
    shared_id = f"SM{uuid4().hex}"  # carrier ids are only unique per carrier account
    await record(dealer, notifier_says(dealer, mine, "sent", carrier="twilio", carrier_message_id=shared_id))
    await record(
        other_dealer,
        notifier_says(other_dealer, theirs, "sent", carrier="twilio", carrier_message_id=shared_id),
    )
    await record(dealer, carrier_says(dealer, shared_id, "delivered"))
    assert (await stored(dealer, mine)).status == "delivered"
    assert (await stored(other_dealer, theirs)).status == "sent"


def test_an_introduction_names_the_replier_by_first_name_and_the_dealership_when_it_has_one():
    assert (
        introduced("Your car is ready", "Lou Outsider", "Maple Honda")
        == "Lou from Maple Honda: Your car is ready"
    )
    assert introduced("Hi", "Lou", "  ") == "Lou: Hi"
    assert introduced("Hi", "", None) == "A colleague: Hi"


async def test_each_step_forward_is_announced_for_the_live_inbox(client, dealer, ago):
    conversation, message_id = await sent_message(client, dealer, ago)
    assert await record(dealer, notifier_says(dealer, message_id, "sent"))
    assert not await record(dealer, notifier_says(dealer, message_id, "sending"))  # stale: nothing
    assert await record(dealer, notifier_says(dealer, message_id, "undelivered", error_category="landline"))
    async with dealer.sessions() as session:
        payloads = await session.scalars(
            select(outbox.c.payload)
            .where(
                outbox.c.topic == "conversation.message_status_changed.v1", outbox.c.key == str(conversation)
            )
            .order_by(outbox.c.id)
        )
        events = [json.loads(bytes(p)) for p in payloads]
    assert [(e["message_id"], e["status"], e["error_category"]) for e in events] == [
        (str(message_id), "sent", None),
        (str(message_id), "undelivered", "landline"),
    ]
    assert {e["conversation_id"] for e in events} == {str(conversation)}
