"""An internal note without reassigning: in the timeline, never to the customer, mentions heard,
and possible even when the composer is blocked."""

import json

from sqlalchemy import func, select

from routing.tables import conversations, customer_phones, messages, outbox


async def _note_events(dealer) -> list[dict]:
    async with dealer.sessions() as session:
        payloads = await session.scalars(
            select(outbox.c.payload)
            .where(outbox.c.topic == "conversation.note_added.v1")
            .order_by(outbox.c.id)
        )
        events = [json.loads(bytes(p)) for p in payloads]
    return [e for e in events if e["account_id"] == str(dealer.account_id)]


async def test_a_note_mentions_colleagues_and_stays_internal(client, dealer, ago):
    conversation = str(await dealer.receive(ago(1)))
    await dealer.set_assignee(conversation, user_id=dealer.sam_id)

    response = await client.post(
        f"/api/v1/conversations/{conversation}/notes",
        headers=dealer.headers(dealer.lou_id),
        json={"body": "@Kim Lee this customer asked about winter tires"},
    )
    assert response.status_code == 201, response.text
    note = response.json()
    assert note["mentioned_user_ids"] == [str(dealer.kim_id)]
    assert note["actor_name"] == "Lou Outsider"

    [event] = await _note_events(dealer)
    assert event["conversation_ids"] == [conversation]
    assert event["mentioned_user_ids"] == [str(dealer.kim_id)]
    assert event["actor_user_id"] == str(dealer.lou_id)
    async with dealer.sessions() as session:
        outbound = await session.scalar(
            select(func.count()).where(
                messages.c.conversation_id == conversation, messages.c.direction == "outbound"
            )
        )
        assignee = await session.scalar(
            select(conversations.c.assignee_user_id).where(conversations.c.id == conversation)
        )
    assert outbound == 0  # nothing is sent to the customer
    assert assignee == dealer.sam_id  # a note does not reassign

    timeline = (await client.get(f"/api/v1/conversations/{conversation}/timeline", headers=dealer.sam)).json()
    [item] = [i for i in timeline["items"] if i["kind"] == "note"]
    assert item["data"]["body"].startswith("@Kim Lee")
    assert item["actor_user_id"] == str(dealer.lou_id)


async def test_a_note_works_when_the_composer_is_blocked(client, dealer, ago):
    conversation = str(await dealer.receive(ago(1)))
    async with dealer.sessions.begin() as session:
        customer = await session.scalar(
            select(conversations.c.customer_id).where(conversations.c.id == conversation)
        )
        await session.execute(
            customer_phones.update().where(customer_phones.c.customer_id == customer).values(kind="landline")
        )
    composer = (await client.get(f"/api/v1/conversations/{conversation}/composer", headers=dealer.sam)).json()
    assert composer["can_send"] is False

    response = await client.post(
        f"/api/v1/conversations/{conversation}/notes",
        headers=dealer.sam,
        json={"body": "No longer reachable by text: the number is a landline."},
    )
    assert response.status_code == 201, response.text


async def test_notes_refuse_blank_text_and_other_accounts(client, dealer, other_dealer, ago):
    conversation = str(await dealer.receive(ago(1)))
    blank = await client.post(
        f"/api/v1/conversations/{conversation}/notes", headers=dealer.sam, json={"body": "  "}
    )
    assert blank.status_code == 422
    theirs = await client.post(
        f"/api/v1/conversations/{conversation}/notes", headers=other_dealer.admin, json={"body": "hello"}
    )
    assert theirs.status_code == 404
    assert await _note_events(dealer) == []
