"""STOP / START / HELP from a customer, through the routing use case that stores inbound texts,
on the real PostgreSQL: the opt-out row, the timeline, the composer, the HELP answer."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from routing.messaging.usecases.composer import composer_for
from routing.tables import accounts, messages, opt_outs, outbox, timeline_events

CUSTOMER = "+14385550142"


async def _opt_outs(dealer) -> list:
    async with dealer.sessions() as session:
        return (
            await session.execute(
                select(opt_outs.c.customer_e164, opt_outs.c.dealership_e164, opt_outs.c.keyword).where(
                    opt_outs.c.account_id == dealer.account_id
                )
            )
        ).all()


async def _events(dealer, conversation_id) -> list:
    async with dealer.sessions() as session:
        return (
            await session.execute(
                select(timeline_events.c.kind, timeline_events.c.data)
                .where(timeline_events.c.conversation_id == conversation_id)
                .order_by(timeline_events.c.created_at)
            )
        ).all()


async def _messages(dealer, conversation_id) -> list:
    async with dealer.sessions() as session:
        return (
            await session.execute(
                select(messages.c.direction, messages.c.body, messages.c.status, messages.c.source_name)
                .where(messages.c.conversation_id == conversation_id)
                .order_by(messages.c.created_at, messages.c.direction)
            )
        ).all()


async def test_stop_opts_out_for_that_number_and_start_opts_back_in(dealer, client):
    at = datetime.now(UTC) - timedelta(minutes=5)
    conversation_id = await dealer.receive(at, "Stop.", customer_number=CUSTOMER)

    assert await _opt_outs(dealer) == [(CUSTOMER, dealer.number, "STOP")]
    [(kind, data)] = await _events(dealer, conversation_id)
    assert kind == "opted_out"
    assert (data["keyword"], data["customer_phone"], data["dealership_phone"]) == (
        "STOP",
        CUSTOMER,
        dealer.number,
    )
    # The text itself is stored like any other.
    assert [(m.direction, m.body) for m in await _messages(dealer, conversation_id)] == [("inbound", "Stop.")]
    async with dealer.sessions() as session:
        composer = await composer_for(session, dealer.account_id, conversation_id)
    assert (composer.can_send, composer.reason) == (False, "opted_out")

    # A second STOP changes nothing and does not repeat itself on the timeline.
    await dealer.receive(at + timedelta(minutes=1), "ARRÊT", customer_number=CUSTOMER)
    assert await _opt_outs(dealer) == [(CUSTOMER, dealer.number, "STOP")]

    await dealer.receive(at + timedelta(minutes=2), " start ", customer_number=CUSTOMER)
    assert await _opt_outs(dealer) == []
    assert [kind for kind, _ in await _events(dealer, conversation_id)] == ["opted_out", "opted_in"]
    async with dealer.sessions() as session:
        assert (await composer_for(session, dealer.account_id, conversation_id)).can_send

    timeline = await client.get(f"/api/v1/conversations/{conversation_id}/timeline", headers=dealer.admin)
    assert timeline.status_code == 200, timeline.text
    assert [item["kind"] for item in timeline.json()["items"]] == [
        "message",
        "opted_out",
        "message",
        "message",
        "opted_in",
    ]


async def test_yes_from_a_customer_who_never_opted_out_is_just_a_message(dealer):
    conversation_id = await dealer.receive(datetime.now(UTC), "Yes", customer_number=CUSTOMER)
    assert await _events(dealer, conversation_id) == []
    assert await _opt_outs(dealer) == []


async def test_opt_out_is_per_dealership_number_and_account(dealer, other_dealer):
    await dealer.receive(datetime.now(UTC), "UNSUBSCRIBE", customer_number=CUSTOMER)
    other_conversation = await other_dealer.receive(datetime.now(UTC), "hello", customer_number=CUSTOMER)
    assert await _opt_outs(other_dealer) == []
    async with other_dealer.sessions() as session:
        assert (await composer_for(session, other_dealer.account_id, other_conversation)).can_send


async def test_help_is_answered_with_the_account_help_text(dealer):
    async with dealer.sessions.begin() as session:
        await session.execute(
            update(accounts)
            .where(accounts.c.id == dealer.account_id)
            .values(help_text="Demo Motors service desk, 514-555-0100. Reply STOP to opt out.")
        )
    conversation_id = await dealer.receive(datetime.now(UTC), "HELP", customer_number=CUSTOMER)
    stored = await _messages(dealer, conversation_id)
    assert [(m.direction, m.body, m.status) for m in stored] == [
        ("inbound", "HELP", "received"),
        ("outbound", "Demo Motors service desk, 514-555-0100. Reply STOP to opt out.", "queued"),
    ]
    assert stored[1].source_name == "HELP keyword reply"
    async with dealer.sessions() as session:
        requested = (
            await session.scalars(
                select(outbox.c.payload).where(outbox.c.topic == "sms.outbound_requested.v1")
            )
        ).all()
    assert any(
        b"514-555-0100" in payload and str(conversation_id).encode() in payload for payload in requested
    )


async def test_help_without_a_help_text_gets_the_default_and_an_opted_out_customer_gets_none(dealer):
    conversation_id = await dealer.receive(datetime.now(UTC), "help", customer_number=CUSTOMER)
    answer = (await _messages(dealer, conversation_id))[-1]
    assert answer.direction == "outbound" and "Reply STOP" in answer.body

    other = "+14385550199"
    opted_out_conversation = await dealer.receive(datetime.now(UTC), "STOP", customer_number=other)
    await dealer.receive(datetime.now(UTC) + timedelta(seconds=1), "HELP", customer_number=other)
    assert [m.direction for m in await _messages(dealer, opted_out_conversation)] == ["inbound", "inbound"]
