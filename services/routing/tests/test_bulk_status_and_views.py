"""The `unassigned` view wherever a view is taken, and closing / reopening many conversations at
once: each one changed gets its timeline entry and its event, as when closed alone; another
account's ids change nothing and are not revealed."""

import json

from sqlalchemy import select, update

from routing.tables import conversations, outbox


async def _status_events(dealer, ids: list[str]) -> list[dict]:
    async with dealer.sessions() as session:
        payloads = await session.scalars(
            select(outbox.c.payload)
            .where(outbox.c.topic == "conversation.status_changed.v1", outbox.c.key.in_(ids))
            .order_by(outbox.c.id)
        )
        return [json.loads(bytes(p)) for p in payloads]


async def _statuses(dealer, ids: list[str]) -> dict[str, str]:
    async with dealer.sessions() as session:
        rows = await session.execute(
            select(conversations.c.id, conversations.c.status).where(conversations.c.id.in_(ids))
        )
        return {str(row.id): row.status for row in rows}


async def test_the_unassigned_view_lists_counts_and_assigns(client, dealer, ago, listed):
    nobody = str(await dealer.receive(ago(1)))
    sams = await dealer.receive(ago(2))
    await dealer.set_assignee(sams, user_id=dealer.sam_id)
    teams = await dealer.receive(ago(3))
    await dealer.set_assignee(teams, team_id=dealer.team_id)

    assert set(await listed(client, dealer.sam, view="unassigned")) == {nobody}
    counts = (
        await client.get("/api/v1/conversations/counts", headers=dealer.sam, params={"view": "unassigned"})
    ).json()
    assert counts["current"] == counts["views"]["unassigned"] == 1

    response = await client.post(
        "/api/v1/conversations/assign",
        headers=dealer.admin,
        json={"filter": {"view": "unassigned"}, "assignee": {"user_id": str(dealer.kim_id)}},
    )
    assert response.status_code == 200, response.text
    assert response.json()["conversation_ids"] == [nobody]
    assert await listed(client, dealer.sam, view="unassigned") == {}


async def test_an_unknown_view_is_still_refused(client, dealer):
    response = await client.get("/api/v1/conversations", headers=dealer.sam, params={"view": "nobody"})
    assert response.status_code == 422


async def test_bulk_close_then_reopen_by_ids_records_each_and_emits_each(client, dealer, ago):
    ids = [str(await dealer.receive(ago(1))) for _ in range(3)]
    already = str(await dealer.receive(ago(1)))
    assert (await client.post(f"/api/v1/conversations/{already}/close", headers=dealer.sam)).is_success

    closed = await client.post(
        "/api/v1/conversations/close", headers=dealer.sam, json={"conversation_ids": [*ids, already, ids[0]]}
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["changed"] == 3
    assert sorted(closed.json()["conversation_ids"]) == sorted(ids)
    assert set((await _statuses(dealer, [*ids, already])).values()) == {"closed"}

    reopened = await client.post(
        "/api/v1/conversations/reopen", headers=dealer.admin, json={"conversation_ids": ids[:2]}
    )
    assert reopened.json() == {"changed": 2, "conversation_ids": sorted(ids[:2])}

    events = await _status_events(dealer, ids)
    assert sorted((e["conversation_id"], e["status"], e["actor_user_id"]) for e in events) == sorted(
        [(i, "closed", str(dealer.sam_id)) for i in ids]
        + [(i, "open", str(dealer.admin_id)) for i in ids[:2]]
    )
    items = (await client.get(f"/api/v1/conversations/{ids[0]}/timeline", headers=dealer.sam)).json()["items"]
    assert [(i["kind"], i["actor_name"], (i["data"] or {}).get("previous_status")) for i in items] == [
        ("message", None, None),
        ("closed", "Sam Agent", "open"),
        ("reopened", "Alex Admin", "closed"),
    ]


async def test_bulk_close_by_filter_takes_every_match(client, dealer, ago, listed):
    unassigned = [str(await dealer.receive(ago(1))) for _ in range(60)]
    sams = str(await dealer.receive(ago(1)))
    await dealer.set_assignee(sams, user_id=dealer.sam_id)

    response = await client.post(
        "/api/v1/conversations/close",
        headers=dealer.admin,
        json={"filter": {"view": "unassigned", "status": "open"}},
    )
    assert response.status_code == 200, response.text
    assert response.json()["changed"] == 60
    assert set(response.json()["conversation_ids"]) == set(unassigned)
    assert set(await listed(client, dealer.admin, status="open")) == {sams}
    assert len(await _status_events(dealer, unassigned)) == 60


async def test_another_accounts_ids_change_nothing_and_are_not_revealed(client, dealer, other_dealer, ago):
    mine = str(await dealer.receive(ago(1)))
    theirs = str(await other_dealer.receive(ago(1)))
    response = await client.post(
        "/api/v1/conversations/close", headers=dealer.sam, json={"conversation_ids": [mine, theirs]}
    )
    assert response.status_code == 200
    assert response.json() == {"changed": 1, "conversation_ids": [mine]}
    only_theirs = await client.post(
        "/api/v1/conversations/close", headers=dealer.sam, json={"conversation_ids": [theirs]}
    )
    assert only_theirs.json() == {"changed": 0, "conversation_ids": []}
    assert await _statuses(other_dealer, [theirs]) == {theirs: "open"}
    assert await _status_events(other_dealer, [theirs]) == []


async def test_archived_conversations_stay_archived(client, dealer, ago):
    archived = str(await dealer.receive(ago(1)))
    async with dealer.sessions.begin() as session:
        await session.execute(
            update(conversations).where(conversations.c.id == archived).values(status="archived")
        )
    for path in ("close", "reopen"):
        response = await client.post(
            f"/api/v1/conversations/{path}", headers=dealer.admin, json={"conversation_ids": [archived]}
        )
        assert response.json()["changed"] == 0
    assert await _statuses(dealer, [archived]) == {archived: "archived"}


async def test_bulk_requests_name_one_selection_at_most_1000_ids(client, dealer, ago):
    mine = str(await dealer.receive(ago(1)))
    for body in (
        {},
        {"conversation_ids": [mine], "filter": {}},
        {"conversation_ids": []},
        {"conversation_ids": [mine] * 1001},
        {"filter": {"view": "bogus"}},
    ):
        response = await client.post("/api/v1/conversations/close", headers=dealer.admin, json=body)
        assert response.status_code == 422, body


async def test_a_bulk_filter_matching_too_many_is_refused_and_changes_nothing(
    client, dealer, ago, monkeypatch
):
    from routing.conversations.usecases import status

    monkeypatch.setattr(status, "MAX_BULK", 2)
    ids = [str(await dealer.receive(ago(1))) for _ in range(3)]
    response = await client.post(
        "/api/v1/conversations/close", headers=dealer.admin, json={"filter": {"view": "all"}}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "too_many_conversations"
    assert set((await _statuses(dealer, ids)).values()) == {"open"}
