"""Starting a conversation from an appointment, an automation or a campaign (API and the
`messaging.send_requested.v1` use case), and the customers a source reached."""

import asyncio
import secrets
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from sqlalchemy import func, select, update

from routing.messaging.usecases.outbound_status import StatusReport, apply_status
from routing.messaging.usecases.outreach import send_requested
from routing.tables import conversations, customer_phones, customers, messages, users
from shared.contracts.messaging import MessageSource, SendRequested
from shared.kafka.consumer import PermanentError

from .dms_helpers import apply, customer_event, dms_id
from .messaging_helpers import customer_number, outbox_events

CAMPAIGN = {
    "kind": "campaign",
    "id": "winter-tires",
    "name": "Winter tires",
    "url": "https://crm.test/c/winter",
}


def new_phone() -> str:
    """A North American number written the way people type it."""
    return f"(438) 55{secrets.randbelow(10)}-{secrets.randbelow(10**4):04d}"


def e164(phone: str) -> str:
    return "+1" + "".join(ch for ch in phone if ch.isdigit())


async def outreach(client, headers, extra_headers=None, **payload):
    return await client.post("/api/v1/outreach", headers=headers | (extra_headers or {}), json=payload)


async def test_texting_a_new_number_creates_the_customer_and_the_conversation(client, dealer):
    phone = new_phone()
    response = await outreach(
        client, dealer.sam, customer_phone=phone, body="Time for winter tires!", source=CAMPAIGN
    )
    assert response.status_code == 201, response.text
    sent = response.json()
    message = sent["message"]
    assert message["source"] == CAMPAIGN
    assert message["to_number"] == e164(phone)
    assert (message["sender_user_id"], message["status"]) == (str(dealer.sam_id), "queued")

    async with dealer.sessions() as session:
        phone_row = (
            await session.execute(select(customer_phones).where(customer_phones.c.e164 == e164(phone)))
        ).one()
        conversation = (
            await session.execute(select(conversations).where(conversations.c.id == sent["conversation_id"]))
        ).one()
    # North American numbers cannot be told apart by the numbering plan; they are sendable.
    assert (phone_row.account_id, phone_row.kind) == (dealer.account_id, "unknown")
    assert str(phone_row.customer_id) == sent["customer_id"]
    assert (conversation.status, conversation.dealership_e164) == ("open", dealer.number)
    assert conversation.last_outbound_at is not None

    [requested] = await outbox_events(dealer, "sms.outbound_requested.v1", message_id=message["id"])
    assert (requested["source_kind"], requested["respect_quiet_hours"]) == ("campaign", True)
    [message_sent] = await outbox_events(dealer, "conversation.message_sent.v1", message_id=message["id"])
    assert (message_sent["source_id"], message_sent["source_name"]) == ("winter-tires", "Winter tires")

    # The same number again: the same customer, the same conversation.
    again = await outreach(
        client, dealer.headers(dealer.kim_id), customer_phone=e164(phone), body="Reminder", source=CAMPAIGN
    )
    assert again.status_code == 201
    assert (again.json()["customer_id"], again.json()["conversation_id"]) == (
        sent["customer_id"],
        sent["conversation_id"],
    )


async def test_a_customer_created_by_outreach_is_announced_like_one_who_texted_in(client, dealer):
    phone = new_phone()
    response = await outreach(client, dealer.sam, customer_phone=phone, body="Hello", source=CAMPAIGN)
    assert response.status_code == 201, response.text
    customer_id = response.json()["customer_id"]
    # customer.changed.v1 is how search learns of a profile: without it the customer is unfindable.
    [created] = await outbox_events(dealer, "customer.changed.v1", customer_id=customer_id)
    assert created["reason"] == "created"
    assert created["phones"] == [{"e164": e164(phone), "kind": "unknown"}]
    again = await outreach(client, dealer.sam, customer_phone=phone, body="Again", source=CAMPAIGN)
    assert again.status_code == 201
    assert len(await outbox_events(dealer, "customer.changed.v1", customer_id=customer_id)) == 1


async def test_texting_a_known_customer_uses_and_reopens_their_conversation(client, dealer, ago):
    conversation = await dealer.receive(ago(5))
    assert (await client.post(f"/api/v1/conversations/{conversation}/close", headers=dealer.sam)).is_success
    async with dealer.sessions() as session:
        customer_id = await session.scalar(
            select(conversations.c.customer_id).where(conversations.c.id == conversation)
        )
    appointment = {"kind": "appointment", "id": "apt-77", "name": "Oil change, Tue 9:30", "url": None}
    response = await outreach(
        client, dealer.admin, customer_id=str(customer_id), body="See you Tuesday", source=appointment
    )
    assert response.status_code == 201, response.text
    assert response.json()["conversation_id"] == str(conversation)
    summary = (await client.get(f"/api/v1/conversations/{conversation}", headers=dealer.sam)).json()
    assert summary["status"] == "open"
    [requested] = await outbox_events(dealer, "sms.outbound_requested.v1", conversation_id=str(conversation))
    # An appointment message is a person's message: it is not held for quiet hours.
    assert (requested["source_kind"], requested["respect_quiet_hours"]) == ("appointment", False)
    assert requested["to_number"] == await customer_number(dealer, conversation)


async def test_outreach_refusals(client, dealer, other_dealer, ago):
    # A French landline: typed landline by the numbering plan, refused, nothing kept.
    response = await outreach(
        client, dealer.sam, customer_phone="+33 1 42 68 53 00", body="Hi", source=CAMPAIGN
    )
    assert response.status_code == 409, response.text
    assert response.json()["error"]["details"] == {"reason": "landline"}
    async with dealer.sessions() as session:
        kept = await session.scalar(
            select(func.count()).where(
                customer_phones.c.account_id == dealer.account_id, customer_phones.c.e164 == "+33142685300"
            )
        )
    assert kept == 0

    response = await outreach(client, dealer.sam, customer_phone="not a phone", body="Hi", source=CAMPAIGN)
    assert (response.status_code, response.json()["error"]["code"]) == (422, "invalid_phone_number")
    response = await outreach(
        client, dealer.sam, customer_phone=new_phone(), body="Hi", source={"kind": "manual", "id": "x"}
    )
    assert response.status_code == 422
    response = await outreach(client, dealer.sam, body="Hi", source=CAMPAIGN)
    assert response.status_code == 422

    theirs = await other_dealer.receive(ago(1))
    async with other_dealer.sessions() as session:
        their_customer = await session.scalar(
            select(conversations.c.customer_id).where(conversations.c.id == theirs)
        )
    for customer_id in (their_customer, uuid4()):
        response = await outreach(
            client, dealer.sam, customer_id=str(customer_id), body="Hi", source=CAMPAIGN
        )
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    async with other_dealer.sessions() as session:
        assert await session.scalar(select(func.count()).where(messages.c.conversation_id == theirs)) == 1


async def test_outreach_idempotency_key(client, dealer):
    phone = new_phone()
    key = {"Idempotency-Key": f"apt-{uuid4()}"}
    first = await outreach(
        client, dealer.sam, extra_headers=key, customer_phone=phone, body="Hi", source=CAMPAIGN
    )
    again = await outreach(
        client, dealer.sam, extra_headers=key, customer_phone=phone, body="Hi", source=CAMPAIGN
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()


async def test_two_sends_to_the_same_new_number_at_once_make_one_customer_and_one_conversation(
    client, dealer
):
    phone = new_phone()
    responses = await asyncio.gather(
        *(
            outreach(client, dealer.sam, customer_phone=phone, body=f"Hi {i}", source=CAMPAIGN)
            for i in range(4)
        )
    )
    assert [r.status_code for r in responses] == [201] * 4, [r.text for r in responses]
    assert len({r.json()["customer_id"] for r in responses}) == 1
    assert len({r.json()["conversation_id"] for r in responses}) == 1
    async with dealer.sessions() as session:
        owners = await session.scalar(select(func.count()).where(customer_phones.c.e164 == e164(phone)))
        orphans = await session.scalar(
            select(func.count())
            .select_from(customers)
            .outerjoin(customer_phones, customer_phones.c.customer_id == customers.c.id)
            .where(customers.c.account_id == dealer.account_id, customer_phones.c.id.is_(None))
        )
    assert (owners, orphans) == (1, 0)


SOURCES = {
    "campaign": CAMPAIGN,
    "automation": {"kind": "automation", "id": "oil-due", "name": "Oil change due", "url": None},
    "appointment": {"kind": "appointment", "id": "appt", "name": "Oil change, Dec 3 9:00", "url": None},
}


@pytest.mark.parametrize("kind", list(SOURCES))
async def test_reached_customers_of_a_source_with_why_a_text_failed(client, dealer, other_dealer, kind):
    source = {**SOURCES[kind], "id": f"{kind}-{uuid4()}"}
    first_phone, second_phone = new_phone(), new_phone()
    first = (await outreach(client, dealer.sam, customer_phone=first_phone, body="1", source=source)).json()
    second = (await outreach(client, dealer.sam, customer_phone=second_phone, body="2", source=source)).json()
    latest_to_first = (
        await outreach(client, dealer.sam, customer_phone=first_phone, body="3", source=source)
    ).json()
    # Another source's message is not listed.
    await outreach(
        client, dealer.sam, customer_phone=second_phone, body="x", source={**source, "id": "other"}
    )
    async with dealer.sessions.begin() as session:
        await apply_status(
            session,
            dealer.account_id,
            second["message"]["id"],
            StatusReport(status="undelivered", at=datetime.now(UTC), error_category="wrong_number"),
        )

    url = f"/api/v1/sources/{kind}/{source['id']}/customers"
    page = (await client.get(url, headers=dealer.sam)).json()
    assert [row["message_id"] for row in page["items"]] == [
        latest_to_first["message"]["id"],
        second["message"]["id"],
    ]
    row = page["items"][1]
    assert row == {
        "customer_id": second["customer_id"],
        "customer_name": None,
        "customer_phone": e164(second_phone),
        "conversation_id": second["conversation_id"],
        "conversation_link": f"/conversations/{second['conversation_id']}",
        "message_id": second["message"]["id"],
        "status": "undelivered",
        "error_category": "wrong_number",
        "error_text": "The number is not in service or does not exist. Check the customer's number.",
        "sent_at": row["sent_at"],
    }
    assert page["items"][0]["customer_id"] == first["customer_id"]
    assert page["items"][0]["error_text"] is None

    one = (await client.get(url, headers=dealer.sam, params={"limit": 1})).json()
    assert len(one["items"]) == 1 and one["next_cursor"]
    rest = (
        await client.get(url, headers=dealer.sam, params={"limit": 1, "cursor": one["next_cursor"]})
    ).json()
    assert [r["message_id"] for r in one["items"] + rest["items"]] == [r["message_id"] for r in page["items"]]
    assert rest["next_cursor"] is None

    # Another account, another kind, an unknown source: not found.
    for headers, path in (
        (other_dealer.sam, url),
        (dealer.sam, url.replace(f"/{kind}/", "/automation/" if kind != "automation" else "/campaign/")),
        (dealer.sam, f"/api/v1/sources/{kind}/never-sent/customers"),
    ):
        response = await client.get(path, headers=headers)
        assert response.status_code == 404, response.text
    assert (await client.get(url, headers=dealer.sam, params={"cursor": "nope"})).status_code == 422


# --- the same path for other systems (messaging.send_requested.v1) ------------------------------


def request(dealer, **fields) -> SendRequested:
    values = {
        "account_id": dealer.account_id,
        "request_id": f"req-{uuid4()}",
        "body": "Your appointment is confirmed",
        "source": MessageSource(kind="automation", id="auto-1", name="Confirmations"),
    }
    return SendRequested(**(values | fields))


async def handle(dealer, event: SendRequested):
    async with dealer.sessions.begin() as session:
        return await send_requested(session, event, "US", datetime.now(UTC))


async def test_a_send_request_is_sent_once_per_request_id(dealer):
    event = request(dealer, customer_phone=new_phone())
    first = await handle(dealer, event)
    redelivered = await handle(dealer, event.model_copy(update={"event_id": uuid4()}))
    assert first.created and not redelivered.created
    assert redelivered.message_id == first.message_id
    [requested] = await outbox_events(dealer, "sms.outbound_requested.v1", message_id=str(first.message_id))
    assert (requested["sender_user_id"], requested["respect_quiet_hours"]) == (None, True)


async def test_send_requests_that_can_never_be_sent_are_permanent_errors(dealer, other_dealer, ago):
    theirs = await other_dealer.receive(ago(1))
    async with other_dealer.sessions() as session:
        their_customer = await session.scalar(
            select(conversations.c.customer_id).where(conversations.c.id == theirs)
        )
    mine = await dealer.receive(ago(1))
    async with dealer.sessions.begin() as session:
        my_customer = await session.scalar(
            select(conversations.c.customer_id).where(conversations.c.id == mine)
        )
        await session.execute(update(users).where(users.c.id == dealer.lou_id).values(active=False))

    cases = {
        "not a customer of account": request(dealer, customer_id=their_customer),
        "is not a customer": request(dealer, customer_id=uuid4()),
        "landline": request(dealer, customer_phone="+33142685300"),
        "saved_reply_id": request(dealer, customer_id=my_customer, body=None, saved_reply_id=uuid4()),
        "not an active user": request(dealer, customer_id=my_customer, sender_user_id=dealer.lou_id),
        "other account's user": request(dealer, customer_id=my_customer, sender_user_id=other_dealer.sam_id),
        "customer_phone": request(dealer, customer_phone="12"),
        "exactly one": request(dealer),
    }
    for expected, event in cases.items():
        with pytest.raises(PermanentError) as refused:
            await handle(dealer, event)
        if expected != "other account's user":
            assert expected in str(refused.value), (expected, str(refused.value))
    async with dealer.sessions() as session:
        assert (
            await session.scalar(
                select(func.count()).where(
                    messages.c.account_id == dealer.account_id, messages.c.direction == "outbound"
                )
            )
            == 0
        )


async def test_a_customer_id_merged_away_reaches_the_profile_it_was_merged_into(client, dealer, ago):
    """An automation may hold the id of a profile the DMS has since merged into its own: the text
    goes to the survivor's conversation, through the API and through Kafka alike."""
    texted_in = await dealer.receive(ago(2))
    number = await customer_number(dealer, texted_in)
    async with dealer.sessions() as session:
        merged_away = await session.scalar(
            select(conversations.c.customer_id).where(conversations.c.id == texted_in)
        )
    assert await apply(dealer.sessions, customer_event(dealer.account_id, dms_id(), 1, [(number, "mobile")]))
    async with dealer.sessions() as session:
        survivor = await session.scalar(
            select(customers.c.merged_into_customer_id).where(customers.c.id == merged_away)
        )
    assert survivor is not None

    sent = await handle(dealer, request(dealer, customer_id=merged_away))
    async with dealer.sessions() as session:
        owner = await session.scalar(
            select(conversations.c.customer_id).where(conversations.c.id == sent.conversation_id)
        )
    assert owner == survivor
    response = await outreach(
        client, dealer.sam, customer_id=str(merged_away), body="Following up", source=CAMPAIGN
    )
    assert response.status_code == 201, response.text
    assert response.json()["customer_id"] == str(survivor)
    assert response.json()["conversation_id"] == str(sent.conversation_id)


async def test_a_conversation_started_from_a_source_with_a_saved_reply(client, dealer):
    created = await client.post(
        "/api/v1/saved-replies",
        headers=dealer.admin,
        json={"name": "Reminder", "body": "{{ sender.first_name }} here: see you at {{ appointment.time }}"},
    )
    assert created.status_code == 201, created.text
    source = {**SOURCES["appointment"], "id": f"appt-{uuid4()}"}
    sent = await outreach(
        client,
        dealer.sam,
        customer_phone=new_phone(),
        saved_reply_id=created.json()["id"],
        variables={"appointment.time": "9 am"},
        source=source,
    )
    assert sent.status_code == 201, sent.text
    message = sent.json()["message"]
    assert (message["body"], message["source"]) == ("Sam here: see you at 9 am", source)
    [requested] = await outbox_events(dealer, "sms.outbound_requested.v1", message_id=message["id"])
    assert requested["body"] == "Sam here: see you at 9 am"


async def test_many_new_customers_in_a_row_each_get_a_conversation(client, dealer):
    """PostgreSQL plans a prepared statement generically from its sixth run on a connection; the
    conversation insert must still find its partial unique index then."""
    for _ in range(12):
        sent = await outreach(client, dealer.sam, customer_phone=new_phone(), body="Hi", source=CAMPAIGN)
        assert sent.status_code == 201, sent.text
