"""A token of account B can neither see nor change account A's conversations: not by listing,
not with a guessed id, not through a bulk filter."""

import uuid

from sqlalchemy import select

from routing.tables import conversations, read_marks


async def test_another_account_sees_none_of_our_conversations(client, dealer, other_dealer, ago, listed):
    ours = str(await dealer.receive(ago(1)))
    await dealer.set_assignee(ours, user_id=dealer.sam_id)
    for params in (
        {},
        {"status": "all"},
        {"view": f"user:{dealer.sam_id}"},
        {"view": f"team:{dealer.team_id}"},
    ):
        assert ours not in await listed(client, other_dealer.admin, **params)
    counts = (
        await client.get("/api/v1/conversations/counts", headers=other_dealer.admin, params={"status": "all"})
    ).json()
    assert counts["status"]["all"] == 0
    assert counts["views"]["users"] == {}


async def test_guessed_ids_are_not_found_for_every_route(client, dealer, other_dealer, ago):
    ours = str(await dealer.receive(ago(1)))
    await dealer.set_assignee(ours, user_id=dealer.sam_id)
    headers = other_dealer.admin
    for method, path in (
        ("GET", f"/api/v1/conversations/{ours}"),
        ("GET", f"/api/v1/conversations/{ours}/messages"),
        ("GET", f"/api/v1/conversations/{ours}/timeline"),
        ("POST", f"/api/v1/conversations/{ours}/read"),
        ("POST", f"/api/v1/conversations/{ours}/close"),
        ("POST", f"/api/v1/conversations/{ours}/reopen"),
        ("POST", f"/api/v1/conversations/{uuid.uuid4()}/close"),
    ):
        response = await client.request(method, path, headers=headers)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["code"] == "not_found"
    response = await client.post(
        "/api/v1/conversations/assign",
        headers=headers,
        json={"conversation_ids": [ours], "assignee": {"user_id": str(other_dealer.sam_id)}},
    )
    assert response.status_code == 404

    async with dealer.sessions() as session:
        row = (await session.execute(select(conversations).where(conversations.c.id == ours))).one()
        marks = list(
            await session.scalars(select(read_marks.c.user_id).where(read_marks.c.conversation_id == ours))
        )
    assert (row.status, row.assignee_user_id, row.assignee_team_id) == ("open", dealer.sam_id, None)
    assert marks == []


async def test_a_bulk_filter_only_ever_matches_the_callers_account(client, dealer, other_dealer, ago):
    ours = str(await dealer.receive(ago(1)))
    response = await client.post(
        "/api/v1/conversations/assign",
        headers=other_dealer.admin,
        json={"filter": {"view": "all", "status": "all"}, "assignee": {"user_id": str(other_dealer.sam_id)}},
    )
    assert response.status_code == 200
    assert ours not in response.json()["conversation_ids"]
    async with dealer.sessions() as session:
        assignee = await session.scalar(
            select(conversations.c.assignee_user_id).where(conversations.c.id == ours)
        )
    assert assignee is None


async def test_a_request_without_a_valid_token_is_refused(client, dealer):
    assert (await client.get("/api/v1/conversations")).status_code == 401
    bad = await client.get("/api/v1/conversations", headers={"authorization": "Bearer nonsense"})
    assert bad.status_code == 401
    assert bad.json()["error"]["code"] == "unauthorized"
