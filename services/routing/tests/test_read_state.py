"""The owners' read position kept on each conversation follows every change that moves it:
reads, assignments, team membership, a member's deactivation."""


async def _row(client, listed, headers, conversation: str) -> dict:
    return (await listed(client, headers, view="all", status="all"))[conversation]


async def test_a_team_conversation_turns_unread_when_its_only_reader_leaves_the_team(
    client, dealer, ago, listed
):
    conversation = str(await dealer.receive(ago(1)))
    await dealer.set_assignee(conversation, team_id=dealer.team_id)
    kim = dealer.headers(dealer.kim_id)
    assert (await client.post(f"/api/v1/conversations/{conversation}/read", headers=kim)).is_success
    assert (await _row(client, listed, dealer.sam, conversation))["read"] is True

    members = await client.put(
        f"/api/v1/teams/{dealer.team_id}/members",
        headers=dealer.admin,
        json={"user_ids": [str(dealer.sam_id)]},
    )
    assert members.status_code == 200, members.text
    row = await _row(client, listed, dealer.sam, conversation)
    assert row["read"] is False and row["unread_for_me"] is True
    unread = await listed(client, dealer.sam, view="mine", read="unread")
    assert conversation in unread


async def test_deactivating_the_reader_makes_the_team_conversation_unread(client, dealer, ago, listed):
    conversation = str(await dealer.receive(ago(1)))
    await dealer.set_assignee(conversation, team_id=dealer.team_id)
    kim = dealer.headers(dealer.kim_id)
    assert (await client.post(f"/api/v1/conversations/{conversation}/read", headers=kim)).is_success

    deactivated = await client.patch(
        f"/api/v1/users/{dealer.kim_id}", headers=dealer.admin, json={"active": False}
    )
    assert deactivated.status_code == 200, deactivated.text
    assert (await _row(client, listed, dealer.sam, conversation))["read"] is False


async def test_assigning_to_someone_who_read_it_makes_it_read(client, dealer, ago, listed):
    conversation = str(await dealer.receive(ago(1)))
    lou = dealer.headers(dealer.lou_id)
    assert (await client.post(f"/api/v1/conversations/{conversation}/read", headers=lou)).is_success
    await dealer.set_assignee(conversation, user_id=dealer.sam_id)
    assert (await _row(client, listed, dealer.sam, conversation))["read"] is False

    assigned = await client.post(
        "/api/v1/conversations/assign",
        headers=dealer.admin,
        json={"conversation_ids": [conversation], "assignee": {"user_id": str(dealer.lou_id)}},
    )
    assert assigned.status_code == 200, assigned.text
    assert (await _row(client, listed, dealer.sam, conversation))["read"] is True
