"""Marking a conversation unread for oneself (the opposite of /read), and `conversation.read.v1`
for every change of a person's own read state, through the outbox."""

import json

from sqlalchemy import select

from routing.tables import outbox


async def _row(client, listed, headers, conversation: str) -> dict:
    return (await listed(client, headers, view="all", status="all"))[conversation]


async def _read_events(dealer, conversation: str) -> list[tuple[str, bool]]:
    async with dealer.sessions() as session:
        payloads = await session.scalars(
            select(outbox.c.payload)
            .where(outbox.c.topic == "conversation.read.v1", outbox.c.key == conversation)
            .order_by(outbox.c.id)
        )
        events = [json.loads(bytes(p)) for p in payloads]
    assert all(e["account_id"] == str(dealer.account_id) for e in events)
    return [(e["user_id"], e["read"]) for e in events]


async def test_unread_flips_my_conversation_back_and_read_again_flips_it_forward(client, dealer, ago, listed):
    number = "+14385550177"
    conversation = str(await dealer.receive(ago(3), "first", customer_number=number))
    await dealer.receive(ago(2), "second", customer_number=number)
    await dealer.set_assignee(conversation, user_id=dealer.sam_id)

    read = await client.post(f"/api/v1/conversations/{conversation}/read", headers=dealer.sam)
    assert read.status_code == 200, read.text
    assert (await _row(client, listed, dealer.sam, conversation))["unread_for_me"] is False

    unread = await client.post(f"/api/v1/conversations/{conversation}/unread", headers=dealer.sam)
    assert unread.status_code == 200, unread.text
    mark = unread.json()
    assert mark["conversation_id"] == conversation and mark["user_id"] == str(dealer.sam_id)
    # Read up to the message before the latest inbound one.
    timeline = (await client.get(f"/api/v1/conversations/{conversation}/timeline", headers=dealer.sam)).json()
    first_id = timeline["items"][0]["id"]
    assert mark["last_read_message_id"] == first_id
    assert mark["last_read_at"] < read.json()["last_read_at"]
    row = await _row(client, listed, dealer.sam, conversation)
    assert (row["read"], row["unread_for_me"]) == (False, True)
    assert conversation in await listed(client, dealer.sam, view="mine", read="unread")

    # Twice changes nothing more; read again is read.
    assert (
        await client.post(f"/api/v1/conversations/{conversation}/unread", headers=dealer.sam)
    ).json() == mark
    assert (await client.post(f"/api/v1/conversations/{conversation}/read", headers=dealer.sam)).is_success
    assert (await _row(client, listed, dealer.sam, conversation))["read"] is True

    sam = str(dealer.sam_id)
    assert await _read_events(dealer, conversation) == [(sam, True), (sam, False), (sam, True)]


async def test_unread_of_a_single_message_conversation(client, dealer, ago, listed):
    conversation = str(await dealer.receive(ago(1)))
    await dealer.set_assignee(conversation, user_id=dealer.sam_id)
    assert (await client.post(f"/api/v1/conversations/{conversation}/read", headers=dealer.sam)).is_success
    unread = await client.post(f"/api/v1/conversations/{conversation}/unread", headers=dealer.sam)
    assert unread.json()["last_read_message_id"] is None
    assert (await _row(client, listed, dealer.sam, conversation))["unread_for_me"] is True


async def test_a_team_conversation_another_member_read_stays_read_for_the_team(client, dealer, ago, listed):
    conversation = str(await dealer.receive(ago(1)))
    await dealer.set_assignee(conversation, team_id=dealer.team_id)
    kim = dealer.headers(dealer.kim_id)
    for headers in (dealer.sam, kim):
        assert (await client.post(f"/api/v1/conversations/{conversation}/read", headers=headers)).is_success
    assert (await client.post(f"/api/v1/conversations/{conversation}/unread", headers=dealer.sam)).is_success
    assert (await _row(client, listed, dealer.sam, conversation))["read"] is True

    # Once nobody of the team has read it, it is unread for the team again.
    assert (await client.post(f"/api/v1/conversations/{conversation}/unread", headers=kim)).is_success
    row = await _row(client, listed, dealer.sam, conversation)
    assert (row["read"], row["unread_for_me"]) == (False, True)


async def test_reading_what_i_read_already_says_nothing_more(client, dealer, ago):
    conversation = str(await dealer.receive(ago(1)))
    for _ in range(2):
        assert (
            await client.post(f"/api/v1/conversations/{conversation}/read", headers=dealer.admin)
        ).is_success
    # Unread without having read it: nothing changed for me.
    assert (await client.post(f"/api/v1/conversations/{conversation}/unread", headers=dealer.sam)).is_success
    assert await _read_events(dealer, conversation) == [(str(dealer.admin_id), True)]


async def test_unread_of_another_accounts_conversation_is_not_found(client, dealer, other_dealer, ago):
    theirs = str(await other_dealer.receive(ago(1)))
    response = await client.post(f"/api/v1/conversations/{theirs}/unread", headers=dealer.sam)
    assert response.status_code == 404
    assert await _read_events(other_dealer, theirs) == []
