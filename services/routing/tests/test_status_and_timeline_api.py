"""Closing and reopening by hand; the merged, paginated timeline."""

import json

from sqlalchemy import select, update

from routing.tables import conversations, outbox


async def _status_events(dealer, conversation: str) -> list[dict]:
    async with dealer.sessions() as session:
        payloads = await session.scalars(
            select(outbox.c.payload)
            .where(outbox.c.topic == "conversation.status_changed.v1", outbox.c.key == conversation)
            .order_by(outbox.c.id)
        )
        return [json.loads(bytes(p)) for p in payloads]


async def test_close_and_reopen_record_the_timeline_and_emit_events(client, dealer, ago):
    conversation = str(await dealer.receive(ago(1)))
    closed = await client.post(f"/api/v1/conversations/{conversation}/close", headers=dealer.sam)
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    # Closing again changes nothing and says nothing.
    assert (await client.post(f"/api/v1/conversations/{conversation}/close", headers=dealer.sam)).is_success
    reopened = await client.post(f"/api/v1/conversations/{conversation}/reopen", headers=dealer.admin)
    assert reopened.json()["status"] == "open"

    events = await _status_events(dealer, conversation)
    assert [(e["previous_status"], e["status"]) for e in events] == [("open", "closed"), ("closed", "open")]
    assert [e["actor_user_id"] for e in events] == [str(dealer.sam_id), str(dealer.admin_id)]

    items = (await client.get(f"/api/v1/conversations/{conversation}/timeline", headers=dealer.sam)).json()[
        "items"
    ]
    assert [(i["kind"], i["actor_name"]) for i in items] == [
        ("message", None),
        ("closed", "Sam Agent"),
        ("reopened", "Alex Admin"),
    ]
    assert items[0]["message"]["body"] == "hello"


async def test_an_archived_conversation_cannot_be_reopened(client, dealer, ago):
    conversation = str(await dealer.receive(ago(1)))
    async with dealer.sessions.begin() as session:
        await session.execute(
            update(conversations).where(conversations.c.id == conversation).values(status="archived")
        )
    response = await client.post(f"/api/v1/conversations/{conversation}/reopen", headers=dealer.admin)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


async def test_timeline_merges_messages_and_events_in_order_across_pages(client, dealer, ago):
    number = "+14385550199"
    conversation = str(await dealer.receive(ago(10), "first", customer_number=number))
    for i in range(3):
        await client.post(
            "/api/v1/conversations/assign",
            headers=dealer.admin,
            json={
                "conversation_ids": [conversation],
                "assignee": {"user_id": str(dealer.sam_id)},
                "note": f"n{i}",
            },
        )
    await dealer.receive(ago(0), "second", customer_number=number)
    await client.post(f"/api/v1/conversations/{conversation}/close", headers=dealer.sam)

    items, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (
            await client.get(
                f"/api/v1/conversations/{conversation}/timeline", headers=dealer.sam, params=params
            )
        ).json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    kinds = [i["kind"] for i in items]
    assert kinds == ["message", *["assigned", "note"] * 3, "message", "closed"]
    assert [i["data"]["body"] for i in items if i["kind"] == "note"] == ["n0", "n1", "n2"]
    assert len({i["id"] for i in items}) == len(items)
    stamps = [i["created_at"] for i in items]
    assert stamps == sorted(stamps)


async def test_a_customer_text_reopens_a_closed_conversation_on_the_timeline(client, dealer, ago):
    number = "+14385550123"
    conversation = str(await dealer.receive(ago(2), "first", customer_number=number))
    assert (await client.post(f"/api/v1/conversations/{conversation}/close", headers=dealer.sam)).is_success
    assert str(await dealer.receive(ago(0), "again", customer_number=number)) == conversation

    items = (await client.get(f"/api/v1/conversations/{conversation}/timeline", headers=dealer.sam)).json()[
        "items"
    ]
    assert [i["kind"] for i in items] == ["message", "closed", "reopened", "message"]
    assert items[2]["actor_user_id"] is None
    assert items[2]["data"]["reason"] == "message_received"
    events = await _status_events(dealer, conversation)
    assert [(e["status"], e["reason"]) for e in events] == [
        ("closed", "manual"),
        ("open", "message_received"),
    ]


async def test_timeline_newest_first_pages_back_in_time(client, dealer, ago):
    number = "+14385550198"
    conversation = str(await dealer.receive(ago(10), "first", customer_number=number))
    for i in range(2):
        await client.post(
            f"/api/v1/conversations/{conversation}/notes", headers=dealer.sam, json={"body": f"n{i}"}
        )
    await dealer.receive(ago(0), "second", customer_number=number)
    await client.post(f"/api/v1/conversations/{conversation}/close", headers=dealer.sam)
    url = f"/api/v1/conversations/{conversation}/timeline"
    oldest = (await client.get(url, headers=dealer.sam)).json()["items"]

    items, cursor, pages = [], None, 0
    while True:
        params = {"order": "newest", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(url, headers=dealer.sam, params=params)).json()
        items.extend(page["items"])
        cursor, pages = page["next_cursor"], pages + 1
        if not cursor:
            break
    assert pages == 3
    assert [i["id"] for i in items] == [i["id"] for i in reversed(oldest)]
    assert [i["kind"] for i in items[:2]] == ["closed", "message"]
    assert items[1]["message"]["body"] == "second"
    bad = await client.get(url, headers=dealer.sam, params={"order": "sideways"})
    assert bad.status_code == 422
