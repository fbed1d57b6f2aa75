"""Assignment, one or in bulk, with notes and @mentions: timeline rows and outbox events."""

import json
from uuid import UUID

from sqlalchemy import select

from routing.tables import conversations, outbox, timeline_events


async def _events(dealer, topic: str) -> list[dict]:
    async with dealer.sessions() as session:
        payloads = await session.scalars(
            select(outbox.c.payload).where(outbox.c.topic == topic).order_by(outbox.c.id)
        )
        events = [json.loads(bytes(p)) for p in payloads]
    return [e for e in events if e["account_id"] == str(dealer.account_id)]


async def _assignees(dealer, ids) -> dict[str, tuple]:
    async with dealer.sessions() as session:
        rows = await session.execute(
            select(
                conversations.c.id, conversations.c.assignee_user_id, conversations.c.assignee_team_id
            ).where(conversations.c.id.in_([UUID(str(i)) for i in ids]))
        )
        return {str(r.id): (r.assignee_user_id, r.assignee_team_id) for r in rows}


async def test_assign_to_a_user_with_a_note_that_mentions_colleagues(client, dealer, ago):
    first = str(await dealer.receive(ago(1)))
    second = str(await dealer.receive(ago(1)))
    response = await client.post(
        "/api/v1/conversations/assign",
        headers=dealer.admin,
        json={
            "conversation_ids": [first, second],
            "assignee": {"user_id": str(dealer.sam_id)},
            "note": "@Kim Lee knows this customer; @sam please call back",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == 2
    assert body["mentioned_user_ids"] == [str(dealer.kim_id), str(dealer.sam_id)]
    assert body["notified_user_ids"] == [str(dealer.sam_id)]
    assert set((await _assignees(dealer, [first, second])).values()) == {(dealer.sam_id, None)}

    assigned = await _events(dealer, "conversation.assigned.v1")
    assert len(assigned) == 1  # one event for the whole action
    assert set(assigned[0]["conversation_ids"]) == {first, second}
    assert assigned[0]["assignee_user_id"] == str(dealer.sam_id)
    assert assigned[0]["actor_user_id"] == str(dealer.admin_id)
    assert assigned[0]["notify_user_ids"] == [str(dealer.sam_id)]
    assert assigned[0]["note"].startswith("@Kim Lee")
    notes = await _events(dealer, "conversation.note_added.v1")
    assert len(notes) == 1
    assert notes[0]["mentioned_user_ids"] == [str(dealer.kim_id), str(dealer.sam_id)]

    timeline = (await client.get(f"/api/v1/conversations/{first}/timeline", headers=dealer.sam)).json()
    kinds = [item["kind"] for item in timeline["items"]]
    assert kinds == ["message", "assigned", "note"]
    assigned_item = timeline["items"][1]
    assert assigned_item["actor_name"] == "Alex Admin"
    assert assigned_item["data"]["assignee_name"] == "Sam Agent"
    assert timeline["items"][2]["data"]["mentioned_user_ids"] == [str(dealer.kim_id), str(dealer.sam_id)]


async def test_assign_to_a_team_notifies_every_member_but_the_one_assigning(client, dealer, ago):
    conversation = str(await dealer.receive(ago(1)))
    response = await client.post(
        "/api/v1/conversations/assign",
        headers=dealer.sam,
        json={"conversation_ids": [conversation], "assignee": {"team_id": str(dealer.team_id)}},
    )
    assert response.status_code == 200, response.text
    # Sam, who assigned it, is in the team: only Kim is told.
    assert response.json()["notified_user_ids"] == [str(dealer.kim_id)]
    assert (await _assignees(dealer, [conversation]))[conversation] == (None, dealer.team_id)
    (event,) = await _events(dealer, "conversation.assigned.v1")
    assert event["notify_user_ids"] == [str(dealer.kim_id)]
    assert await _events(dealer, "conversation.note_added.v1") == []


async def test_bulk_assign_by_filter_takes_every_match_not_one_page(client, dealer, ago, listed):
    unassigned = [str(await dealer.receive(ago(1))) for _ in range(60)]
    keep = str(await dealer.receive(ago(1)))
    await dealer.set_assignee(keep, user_id=dealer.lou_id)
    closed = str(await dealer.receive(ago(1)))
    assert (await client.post(f"/api/v1/conversations/{closed}/close", headers=dealer.admin)).is_success

    page = await client.get("/api/v1/conversations", headers=dealer.admin, params={"limit": 20})
    assert len(page.json()["items"]) == 20 and page.json()["next_cursor"]

    response = await client.post(
        "/api/v1/conversations/assign",
        headers=dealer.admin,
        json={
            "filter": {"view": "all", "status": "open", "read": ["unanswered"]},
            "assignee": {"user_id": str(dealer.kim_id)},
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["count"] == 61
    assert set(response.json()["conversation_ids"]) == {*unassigned, keep}
    kim = dealer.headers(dealer.kim_id)
    assert set(await listed(client, kim, view="mine")) == {*unassigned, keep}
    assert (await _assignees(dealer, [closed]))[closed] == (None, None)


async def test_one_foreign_id_fails_the_whole_bulk_with_404(client, dealer, other_dealer, ago):
    mine = str(await dealer.receive(ago(1)))
    theirs = str(await other_dealer.receive(ago(1)))
    response = await client.post(
        "/api/v1/conversations/assign",
        headers=dealer.admin,
        json={"conversation_ids": [mine, theirs], "assignee": {"user_id": str(dealer.sam_id)}},
    )
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_found"
    assert error["details"] == {"conversation_ids": [theirs]}
    assert (await _assignees(dealer, [mine, theirs])) == {mine: (None, None), theirs: (None, None)}
    assert await _events(dealer, "conversation.assigned.v1") == []
    async with dealer.sessions() as session:
        rows = await session.scalars(
            select(timeline_events.c.id).where(
                timeline_events.c.conversation_id.in_([UUID(mine), UUID(theirs)])
            )
        )
        assert list(rows) == []


async def test_assignee_of_another_account_is_refused_with_422(client, dealer, other_dealer, ago):
    mine = str(await dealer.receive(ago(1)))
    for assignee in ({"user_id": str(other_dealer.sam_id)}, {"team_id": str(other_dealer.team_id)}):
        response = await client.post(
            "/api/v1/conversations/assign",
            headers=dealer.admin,
            json={"conversation_ids": [mine], "assignee": assignee},
        )
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "invalid_assignee"
    assert (await _assignees(dealer, [mine]))[mine] == (None, None)


async def test_request_must_name_one_selection_and_one_assignee(client, dealer, ago):
    mine = str(await dealer.receive(ago(1)))
    for body in (
        {"assignee": {"user_id": str(dealer.sam_id)}},
        {"conversation_ids": [mine], "filter": {}, "assignee": {"user_id": str(dealer.sam_id)}},
        {"conversation_ids": [mine], "assignee": {}},
        {
            "conversation_ids": [mine],
            "assignee": {"user_id": str(dealer.sam_id), "team_id": str(dealer.team_id)},
        },
        {"filter": {"view": "bogus"}, "assignee": {"user_id": str(dealer.sam_id)}},
    ):
        response = await client.post("/api/v1/conversations/assign", headers=dealer.admin, json=body)
        assert response.status_code == 422, body
        assert response.json()["error"]["code"] == "invalid_request"


async def test_reassignment_keeps_who_had_it_before_in_the_timeline(client, dealer, ago):
    conversation = str(await dealer.receive(ago(1)))
    for assignee in ({"user_id": str(dealer.sam_id)}, {"team_id": str(dealer.team_id)}):
        response = await client.post(
            "/api/v1/conversations/assign",
            headers=dealer.admin,
            json={"conversation_ids": [conversation], "assignee": assignee},
        )
        assert response.status_code == 200, response.text
    items = (await client.get(f"/api/v1/conversations/{conversation}/timeline", headers=dealer.sam)).json()[
        "items"
    ]
    first, second = (i["data"] for i in items if i["kind"] == "assigned")
    assert first["previous_assignee_user_id"] is None
    assert (first["assignee_user_id"], first["assignee_name"]) == (str(dealer.sam_id), "Sam Agent")
    assert second["previous_assignee_user_id"] == str(dealer.sam_id)
    assert (second["assignee_team_id"], second["assignee_name"]) == (str(dealer.team_id), "Service")


async def test_a_filter_matching_too_many_is_refused_and_changes_nothing(client, dealer, ago, monkeypatch):
    from routing.conversations.usecases import assign

    monkeypatch.setattr(assign, "MAX_BULK", 2)
    ids = [str(await dealer.receive(ago(1))) for _ in range(3)]
    response = await client.post(
        "/api/v1/conversations/assign",
        headers=dealer.admin,
        json={"filter": {"view": "all"}, "assignee": {"user_id": str(dealer.sam_id)}},
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "too_many_conversations"
    assert set((await _assignees(dealer, ids)).values()) == {(None, None)}
