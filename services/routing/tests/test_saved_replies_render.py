"""Rendering a saved reply with the real customer, sender and dealership of an account: the
function the sending code calls."""

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from sqlalchemy import select, update

from routing.saved_replies.usecases import (
    CustomerNotFound,
    SavedReplyNotFound,
    SavedReplyRenderError,
    render_saved_reply,
)
from routing.tables import accounts, conversations, customers, saved_replies


async def _saved_reply(dealer, body: str, name: str | None = None):
    reply_id = uuid4()
    now = datetime.now(UTC)
    async with dealer.sessions.begin() as session:
        await session.execute(
            saved_replies.insert().values(
                id=reply_id,
                account_id=dealer.account_id,
                name=name or f"reply {reply_id}",
                body=body,
                created_by_user_id=dealer.admin_id,
                created_at=now,
                updated_at=now,
            )
        )
    return reply_id


async def _customer(dealer, ago, first: str | None, last: str | None):
    conversation = await dealer.receive(ago(1))
    async with dealer.sessions.begin() as session:
        customer_id = await session.scalar(
            select(conversations.c.customer_id).where(conversations.c.id == conversation)
        )
        await session.execute(
            update(customers).where(customers.c.id == customer_id).values(first_name=first, last_name=last)
        )
    return customer_id


async def test_renders_customer_sender_dealership_and_appointment_values(dealer, ago):
    customer = await _customer(dealer, ago, "Ann", "Lee")
    body = (
        "Hi {{ customer.first_name }} ({{ customer.full_name | upper }}), {{ sender.first_name }} "
        "from {{ dealership.name }} ({{ dealership.phone }}): see you {{ appointment.date }} "
        "at {{ appointment.time }} with {{ appointment.advisor | default('our team') }}. "
        "- {{ sender.name }}"
    )
    reply = await _saved_reply(dealer, body)
    async with dealer.sessions() as session:
        dealership = await session.scalar(select(accounts.c.name).where(accounts.c.id == dealer.account_id))
        text = await render_saved_reply(
            session,
            dealer.account_id,
            reply,
            customer,
            dealer.sam_id,
            {"appointment.date": "May 3", "appointment.time": "9:30", "unrelated": "ignored"},
        )
    digits = dealer.number[2:]
    phone = f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    assert text == (
        f"Hi Ann (ANN LEE), Sam from {dealership} ({phone}): see you May 3 at 9:30 with our team. - Sam Agent"
    )


async def test_missing_values_are_all_listed_and_nothing_is_rendered(dealer, ago):
    customer = await _customer(dealer, ago, None, None)
    reply = await _saved_reply(
        dealer,
        "Hi {{ customer.first_name }}, {{ sender.first_name }} here about {{ appointment.service }}; "
        "{{ customer.last_name | default('') }}",
    )
    async with dealer.sessions() as session:
        with pytest.raises(SavedReplyRenderError) as raised:
            await render_saved_reply(session, dealer.account_id, reply, customer, None, {})
    assert raised.value.missing == ["customer.first_name", "sender.first_name", "appointment.service"]

    # An empty value is no value either.
    async with dealer.sessions() as session:
        with pytest.raises(SavedReplyRenderError) as raised:
            await render_saved_reply(
                session,
                dealer.account_id,
                reply,
                customer,
                dealer.sam_id,
                {"customer.first_name": "Bo", "appointment.service": ""},
            )
    assert raised.value.missing == ["appointment.service"]


async def test_another_accounts_saved_reply_customer_or_sender_is_not_used(dealer, other_dealer, ago):
    theirs = await _saved_reply(other_dealer, "Hello from them")
    mine = await _saved_reply(dealer, "{{ sender.name }} for {{ customer.first_name }}")
    my_customer = await _customer(dealer, ago, "Ann", None)
    their_customer = await _customer(other_dealer, ago, "Zed", None)
    async with dealer.sessions() as session:
        with pytest.raises(SavedReplyNotFound):
            await render_saved_reply(session, dealer.account_id, theirs, my_customer, None, {})
        with pytest.raises(SavedReplyNotFound):
            await render_saved_reply(session, dealer.account_id, uuid4(), my_customer, None, {})
        with pytest.raises(CustomerNotFound):
            await render_saved_reply(session, dealer.account_id, mine, their_customer, None, {})
        # Their staff member is no sender of ours: the name stays unknown.
        with pytest.raises(SavedReplyRenderError) as raised:
            await render_saved_reply(session, dealer.account_id, mine, my_customer, other_dealer.sam_id, {})
    assert raised.value.missing == ["sender.name"]
