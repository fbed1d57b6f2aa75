"""Replying in a conversation: stored as queued, handed to notifier through the outbox, refused
with the composer's reason, sent once per idempotency key."""

from datetime import UTC, datetime
from uuid import uuid4

from sqlalchemy import delete, func, select, update

from routing.tables import accounts, conversations, customer_phones, messages, opt_outs, outbox
from shared.http.auth import issue_token

from .messaging_helpers import customer_number, outbox_events


async def outbound_count(dealer, conversation) -> int:
    async with dealer.sessions() as session:
        return await session.scalar(
            select(func.count()).where(
                messages.c.conversation_id == conversation, messages.c.direction == "outbound"
            )
        )


def reply_url(conversation) -> str:
    return f"/api/v1/conversations/{conversation}/messages"


async def test_a_reply_is_stored_queued_and_handed_to_notifier(client, dealer, ago):
    conversation = await dealer.receive(ago(2))
    to_number = await customer_number(dealer, conversation)
    attachment = {
        "url": "https://files.test/quote.pdf",
        "content_type": "application/pdf",
        "file_name": "quote.pdf",
    }
    response = await client.post(
        reply_url(conversation),
        headers=dealer.sam,
        json={"body": "Your car is ready", "attachments": [attachment]},
    )
    assert response.status_code == 201, response.text
    sent = response.json()
    message = sent["message"]
    assert sent["conversation_id"] == str(conversation)
    assert sent["conversation_link"] == f"/conversations/{conversation}"
    assert message["direction"] == "outbound"
    assert message["status"] == "queued"
    assert (message["sender_user_id"], message["sender_name"]) == (str(dealer.sam_id), "Sam Agent")
    assert message["source"] == {"kind": "manual", "id": None, "name": None, "url": None}
    assert (message["from_number"], message["to_number"]) == (dealer.number, to_number)
    assert message["attachments"] == [attachment]
    assert message["error_category"] is None and message["error_text"] is None

    [requested] = await outbox_events(dealer, "sms.outbound_requested.v1", message_id=message["id"])
    assert requested["conversation_id"] == str(conversation)
    assert requested["customer_id"] == sent["customer_id"]
    assert (requested["carrier"], requested["from_number"], requested["to_number"]) == (
        "twilio",
        dealer.number,
        to_number,
    )
    assert requested["body"] == "Your car is ready"
    assert requested["attachments"] == [attachment]
    assert requested["source_kind"] == "manual"
    assert requested["sender_user_id"] == str(dealer.sam_id)
    # A person typing is never held for quiet hours.
    assert requested["respect_quiet_hours"] is False
    assert requested["account_time_zone"] == "America/Toronto"
    async with dealer.sessions() as session:
        key = await session.scalar(
            select(outbox.c.key).where(
                outbox.c.topic == "sms.outbound_requested.v1",
                outbox.c.payload.contains(message["id"].encode()),
            )
        )
    assert key == dealer.number  # one notifier consumer owns a sending number

    [message_sent] = await outbox_events(dealer, "conversation.message_sent.v1", message_id=message["id"])
    assert message_sent["conversation_id"] == str(conversation)
    assert message_sent["sender_user_id"] == str(dealer.sam_id)
    assert message_sent["source_kind"] == "manual"

    # The conversation is answered now, and the timeline shows who wrote.
    summary = (await client.get(f"/api/v1/conversations/{conversation}", headers=dealer.sam)).json()
    assert summary["unanswered"] is False
    assert summary["last_outbound_at"] is not None
    items = (await client.get(f"/api/v1/conversations/{conversation}/timeline", headers=dealer.sam)).json()[
        "items"
    ]
    assert [(i["kind"], i["actor_name"]) for i in items] == [("message", None), ("message", "Sam Agent")]
    assert items[1]["message"]["sender_name"] == "Sam Agent"
    assert items[1]["message"]["to_number"] == to_number


async def test_the_same_idempotency_key_sends_once(client, dealer, ago):
    conversation = await dealer.receive(ago(1))
    key = {"Idempotency-Key": f"reply-{uuid4()}"}
    first = await client.post(reply_url(conversation), headers=dealer.sam | key, json={"body": "On my way"})
    again = await client.post(reply_url(conversation), headers=dealer.sam | key, json={"body": "On my way"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["message"]["id"] == again.json()["message"]["id"]
    assert await outbound_count(dealer, conversation) == 1
    assert (
        len(await outbox_events(dealer, "sms.outbound_requested.v1", conversation_id=str(conversation))) == 1
    )
    # Another key is another message.
    other = await client.post(
        reply_url(conversation),
        headers=dealer.sam | {"Idempotency-Key": "another"},
        json={"body": "On my way"},
    )
    assert other.status_code == 201
    assert await outbound_count(dealer, conversation) == 2


async def test_a_reply_by_someone_else_leaves_the_conversation_with_its_assignee(client, dealer, ago):
    conversation = await dealer.receive(ago(1))
    await dealer.set_assignee(conversation, user_id=dealer.kim_id)
    response = await client.post(
        reply_url(conversation), headers=dealer.headers(dealer.lou_id), json={"body": "Hi"}
    )
    assert response.status_code == 201, response.text
    message = response.json()["message"]
    assert message["sender_name"] == "Lou Outsider"
    summary = (await client.get(f"/api/v1/conversations/{conversation}", headers=dealer.admin)).json()
    assert (summary["assignee_user_id"], summary["assignee_team_id"]) == (str(dealer.kim_id), None)
    assert await outbox_events(dealer, "conversation.assigned.v1", conversation_ids=[str(conversation)]) == []
    # The customer has been texting Kim: the text tells them who writes now, and the
    # conversation keeps what they read.
    dealership = await dealer_name(dealer)
    assert message["body"] == f"Lou from {dealership}: Hi"
    [requested] = await outbox_events(dealer, "sms.outbound_requested.v1", message_id=message["id"])
    assert requested["body"] == f"Lou from {dealership}: Hi"
    # Lou is not subscribed: the customer's next text is for Kim alone.
    await dealer.receive(
        ago(0), body="Thanks Lou", customer_number=await customer_number(dealer, conversation)
    )
    *_, received = await outbox_events(
        dealer, "conversation.message_received.v1", conversation_id=str(conversation)
    )
    assert (received["body"], received["notify_user_ids"]) == ("Thanks Lou", [str(dealer.kim_id)])


async def test_the_assignee_and_the_assigned_team_write_without_an_introduction(client, dealer, ago):
    mine = await dealer.receive(ago(1))
    await dealer.set_assignee(mine, user_id=dealer.kim_id)
    own = await client.post(reply_url(mine), headers=dealer.headers(dealer.kim_id), json={"body": "Hi"})
    assert own.json()["message"]["body"] == "Hi"

    teams = await dealer.receive(ago(1))
    await dealer.set_assignee(teams, team_id=dealer.team_id)
    member = await client.post(reply_url(teams), headers=dealer.sam, json={"body": "Hello"})
    assert member.json()["message"]["body"] == "Hello"
    outsider = await client.post(
        reply_url(teams), headers=dealer.headers(dealer.lou_id), json={"body": "Hey"}
    )
    assert outsider.json()["message"]["body"] == f"Lou from {await dealer_name(dealer)}: Hey"

    nobodys = await dealer.receive(ago(1))
    await dealer.set_assignee(nobodys)
    unassigned = await client.post(reply_url(nobodys), headers=dealer.sam, json={"body": "Morning"})
    assert unassigned.json()["message"]["body"] == "Morning"


async def dealer_name(dealer) -> str:
    async with dealer.sessions() as session:
        return await session.scalar(select(accounts.c.name).where(accounts.c.id == dealer.account_id))


async def test_writing_in_a_closed_conversation_reopens_it(client, dealer, ago):
    conversation = await dealer.receive(ago(3))
    assert (await client.post(f"/api/v1/conversations/{conversation}/close", headers=dealer.sam)).is_success
    response = await client.post(reply_url(conversation), headers=dealer.sam, json={"body": "One more thing"})
    assert response.status_code == 201, response.text

    summary = (await client.get(f"/api/v1/conversations/{conversation}", headers=dealer.sam)).json()
    assert summary["status"] == "open"
    items = (await client.get(f"/api/v1/conversations/{conversation}/timeline", headers=dealer.sam)).json()[
        "items"
    ]
    assert [i["kind"] for i in items] == ["message", "closed", "reopened", "message"]
    assert items[2]["data"] == {"previous_status": "closed", "reason": "message_sent"}
    assert items[2]["actor_name"] == "Sam Agent"
    changes = await outbox_events(dealer, "conversation.status_changed.v1", conversation_id=str(conversation))
    assert [(c["status"], c["reason"]) for c in changes] == [("closed", "manual"), ("open", "message_sent")]


async def test_refusals_say_why_and_store_nothing(client, dealer, ago):
    conversation = await dealer.receive(ago(1))
    number = await customer_number(dealer, conversation)

    async def refused(expected_status: int, payload: dict) -> dict:
        response = await client.post(reply_url(conversation), headers=dealer.sam, json=payload)
        assert response.status_code == expected_status, response.text
        return response.json()["error"]

    # Invalid texts: 422.
    assert (await refused(422, {"body": ""}))["code"] == "invalid_request"
    assert (await refused(422, {"body": "x" * 1601}))["code"] == "invalid_request"
    assert (await refused(422, {"body": "   "}))["code"] == "invalid_message"
    assert (await refused(422, {"body": "a", "saved_reply_id": str(uuid4())}))["code"] == "invalid_request"
    assert (await refused(422, {}))["code"] == "invalid_request"
    assert (await refused(422, {"saved_reply_id": str(uuid4())}))["code"] == "saved_reply_not_found"

    # The composer's reasons: 409 cannot_send.
    async with dealer.sessions.begin() as session:
        await session.execute(
            opt_outs.insert().values(
                account_id=dealer.account_id,
                customer_e164=number,
                dealership_e164=dealer.number,
                keyword="STOP",
                opted_out_at=datetime.now(UTC),
            )
        )
    error = await refused(409, {"body": "Hello?"})
    assert (error["code"], error["details"]) == ("cannot_send", {"reason": "opted_out"})
    assert "opted out" in error["message"]

    async with dealer.sessions.begin() as session:
        await session.execute(delete(opt_outs).where(opt_outs.c.customer_e164 == number))
        await session.execute(
            update(customer_phones).where(customer_phones.c.e164 == number).values(kind="landline")
        )
    assert (await refused(409, {"body": "Hello?"}))["details"] == {"reason": "landline"}

    async with dealer.sessions.begin() as session:
        await session.execute(delete(customer_phones).where(customer_phones.c.e164 == number))
    assert (await refused(409, {"body": "Hello?"}))["details"] == {"reason": "no_mobile_number"}

    async with dealer.sessions.begin() as session:
        await session.execute(
            update(conversations).where(conversations.c.id == conversation).values(status="archived")
        )
    assert (await refused(409, {"body": "Hello?"}))["details"] == {"reason": "archived"}

    assert await outbound_count(dealer, conversation) == 0
    assert await outbox_events(dealer, "sms.outbound_requested.v1", conversation_id=str(conversation)) == []


async def test_a_saved_reply_is_rendered_for_the_customer(client, dealer, ago):
    conversation = await dealer.receive(ago(1))
    created = await client.post(
        "/api/v1/saved-replies",
        headers=dealer.admin,
        json={
            "name": "Ready",
            "body": "{{ sender.first_name }} here: your car is ready at {{ appointment.time }}",
        },
    )
    assert created.status_code == 201, created.text
    saved_reply_id = created.json()["id"]

    missing = await client.post(
        reply_url(conversation), headers=dealer.sam, json={"saved_reply_id": saved_reply_id}
    )
    assert missing.status_code == 422
    assert missing.json()["error"]["code"] == "saved_reply_missing_values"
    assert missing.json()["error"]["details"][0]["missing"] == ["appointment.time"]
    assert await outbound_count(dealer, conversation) == 0

    response = await client.post(
        reply_url(conversation),
        headers=dealer.sam,
        json={"saved_reply_id": saved_reply_id, "variables": {"appointment.time": "4 pm"}},
    )
    assert response.status_code == 201, response.text
    assert response.json()["message"]["body"] == "Sam here: your car is ready at 4 pm"


async def test_another_accounts_conversation_cannot_be_replied_to(client, dealer, other_dealer, ago):
    theirs = await other_dealer.receive(ago(1))
    for conversation in (theirs, uuid4()):
        response = await client.post(reply_url(conversation), headers=dealer.sam, json={"body": "Hi"})
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert await outbound_count(other_dealer, theirs) == 0


async def test_only_staff_send(client, dealer, settings, ago):
    conversation = await dealer.receive(ago(1))
    service = issue_token(settings, "exporter", dealer.account_id, "service")
    response = await client.post(
        reply_url(conversation), headers={"authorization": f"Bearer {service}"}, json={"body": "Hi"}
    )
    assert response.status_code == 403
    assert (await client.post(reply_url(conversation), json={"body": "Hi"})).status_code == 401
    assert await outbound_count(dealer, conversation) == 0


async def test_the_openapi_document_describes_sending(app):
    document = app.openapi()
    paths = document["paths"]
    for path, method in (
        ("/api/v1/conversations/{conversation_id}/composer", "get"),
        ("/api/v1/conversations/{conversation_id}/messages", "post"),
        ("/api/v1/outreach", "post"),
        ("/api/v1/sources/{kind}/{source_id}/customers", "get"),
    ):
        operation = paths[path][method]
        assert operation["summary"] and operation.get("security"), path
        assert {"401", "403", "404"} <= operation["responses"].keys(), path
    for path in ("/api/v1/conversations/{conversation_id}/messages", "/api/v1/outreach"):
        operation = paths[path]["post"]
        assert {"200", "201", "409", "422"} <= operation["responses"].keys()
        assert any(p["name"] == "Idempotency-Key" for p in operation["parameters"])
    schemas = document["components"]["schemas"]
    message = schemas["MessageView"]["properties"]
    assert {"sender_name", "source", "error_text", "error_code", "from_number", "to_number"} <= message.keys()
    assert schemas["ComposerView"]["properties"]["reason"]["description"]
