"""Read state, flags, views, filters, pagination and counts through the API, on real Postgres."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from routing.tables import accounts


async def test_unread_until_i_read_it_then_unread_again_on_a_new_message(client, dealer, ago, listed):
    conversation = str(await dealer.receive(ago(1)))
    await dealer.set_assignee(conversation, user_id=dealer.sam_id)

    row = (await listed(client, dealer.sam))[conversation]
    assert row["unread_for_me"] is True
    assert row["read"] is False

    response = await client.post(f"/api/v1/conversations/{conversation}/read", headers=dealer.sam)
    assert response.status_code == 200, response.text
    assert response.json()["last_read_message_id"] is not None
    row = (await listed(client, dealer.sam))[conversation]
    assert (row["unread_for_me"], row["read"]) == (False, True)

    await dealer.receive(ago(0.5), customer_number=row["customer_phone"])
    row = (await listed(client, dealer.sam))[conversation]
    assert (row["unread_for_me"], row["read"]) == (True, False)


async def test_someone_else_reading_does_not_make_it_read_for_the_assignee(client, dealer, ago, listed):
    conversation = str(await dealer.receive(ago(1)))
    await dealer.set_assignee(conversation, user_id=dealer.sam_id)
    assert (await client.post(f"/api/v1/conversations/{conversation}/read", headers=dealer.admin)).is_success

    assert (await listed(client, dealer.sam))[conversation]["unread_for_me"] is True
    admin_row = (await listed(client, dealer.admin))[conversation]
    assert admin_row["assignee_has_not_read"] is True
    assert admin_row["unread_for_me"] is False  # not the admin's conversation


async def test_a_team_conversation_is_read_when_any_member_read_it(client, dealer, ago, listed):
    conversation = str(await dealer.receive(ago(1)))
    await dealer.set_assignee(conversation, team_id=dealer.team_id)
    kim = dealer.headers(dealer.kim_id)

    assert (await listed(client, dealer.sam))[conversation]["unread_for_me"] is True
    assert (await listed(client, kim))[conversation]["unread_for_me"] is True
    assert (await listed(client, dealer.admin))[conversation]["assignee_has_not_read"] is True
    # Lou is not in the team: reading it changes nothing for the team.
    lou = dealer.headers(dealer.lou_id)
    assert (await client.post(f"/api/v1/conversations/{conversation}/read", headers=lou)).is_success
    assert (await listed(client, dealer.admin))[conversation]["assignee_has_not_read"] is True

    assert (await client.post(f"/api/v1/conversations/{conversation}/read", headers=kim)).is_success
    assert (await listed(client, dealer.sam))[conversation]["unread_for_me"] is False
    admin_row = (await listed(client, dealer.admin))[conversation]
    assert admin_row["assignee_has_not_read"] is False
    assert admin_row["read"] is True


async def test_the_eye_flag_is_for_admins_only(client, dealer, ago, listed):
    conversation = str(await dealer.receive(ago(1)))
    await dealer.set_assignee(conversation, user_id=dealer.kim_id)
    assert (await listed(client, dealer.sam))[conversation]["assignee_has_not_read"] is None
    assert (await listed(client, dealer.admin))[conversation]["assignee_has_not_read"] is True
    unassigned = str(await dealer.receive(ago(1)))
    assert (await listed(client, dealer.admin))[unassigned]["assignee_has_not_read"] is False


async def test_overdue_after_the_accounts_unanswered_hours(client, dealer, ago, listed):
    async with dealer.sessions.begin() as session:
        await session.execute(
            update(accounts).where(accounts.c.id == dealer.account_id).values(unanswered_after_hours=2)
        )
    fresh = str(await dealer.receive(ago(1)))
    late = str(await dealer.receive(ago(3)))
    answered = str(await dealer.receive(ago(5)))
    await dealer.answered(answered, ago(4))
    answered_before = str(await dealer.receive(ago(6)))
    await dealer.answered(answered_before, ago(7))  # an answer older than the customer's last text

    rows = await listed(client, dealer.sam)
    assert rows[fresh]["overdue"] is False and rows[fresh]["unanswered"] is True
    assert rows[late]["overdue"] is True
    assert rows[answered]["overdue"] is False and rows[answered]["unanswered"] is False
    assert rows[answered_before]["overdue"] is True


async def test_views_mine_user_team_and_all(client, dealer, ago, listed):
    to_sam = str(await dealer.receive(ago(1)))
    to_team = str(await dealer.receive(ago(1)))
    to_lou = str(await dealer.receive(ago(1)))
    nobody = str(await dealer.receive(ago(1)))
    await dealer.set_assignee(to_sam, user_id=dealer.sam_id)
    await dealer.set_assignee(to_team, team_id=dealer.team_id)
    await dealer.set_assignee(to_lou, user_id=dealer.lou_id)

    assert set(await listed(client, dealer.sam, view="mine")) == {to_sam, to_team}
    assert set(await listed(client, dealer.headers(dealer.lou_id), view="mine")) == {to_lou}
    assert set(await listed(client, dealer.sam, view="all")) == {to_sam, to_team, to_lou, nobody}
    assert set(await listed(client, dealer.sam, view=f"user:{dealer.lou_id}")) == {to_lou}
    assert set(await listed(client, dealer.sam, view=f"team:{dealer.team_id}")) == {to_team}
    bad = await client.get("/api/v1/conversations", headers=dealer.sam, params={"view": "someone"})
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid_request"


async def test_status_filter_hides_closed_and_archived_by_default(client, dealer, ago, listed):
    open_one = str(await dealer.receive(ago(1)))
    closed = str(await dealer.receive(ago(1)))
    archived = str(await dealer.receive(ago(1)))
    assert (await client.post(f"/api/v1/conversations/{closed}/close", headers=dealer.sam)).is_success
    async with dealer.sessions.begin() as session:
        from routing.tables import conversations

        await session.execute(
            update(conversations).where(conversations.c.id == archived).values(status="archived")
        )

    assert set(await listed(client, dealer.sam)) == {open_one}
    assert set(await listed(client, dealer.sam, status="closed")) == {closed}
    assert set(await listed(client, dealer.sam, status="archived")) == {archived}
    # "All" is the menu's "both closed and open"; archived ones are asked for by name.
    assert set(await listed(client, dealer.sam, status="all")) == {open_one, closed}
    counts = (
        await client.get("/api/v1/conversations/counts", headers=dealer.sam, params={"view": "all"})
    ).json()
    assert counts["status"]["all"] == counts["status"]["open"] + counts["status"]["closed"]


async def test_read_filters_combine_as_a_union(client, dealer, ago, listed):
    read_answered = str(await dealer.receive(ago(3)))
    unread_answered = str(await dealer.receive(ago(3)))
    read_unanswered = str(await dealer.receive(ago(3)))
    for conversation in (read_answered, unread_answered):
        await dealer.answered(conversation, ago(2))
    for conversation in (read_answered, read_unanswered):
        await dealer.set_assignee(conversation, user_id=dealer.sam_id)
        assert (
            await client.post(f"/api/v1/conversations/{conversation}/read", headers=dealer.sam)
        ).is_success
    await dealer.set_assignee(unread_answered, user_id=dealer.sam_id)

    assert set(await listed(client, dealer.sam, read="read")) == {read_answered, read_unanswered}
    assert set(await listed(client, dealer.sam, read="unread")) == {unread_answered}
    assert set(await listed(client, dealer.sam, read="unanswered")) == {read_unanswered}
    assert set(await listed(client, dealer.sam, read=["unread", "unanswered"])) == {
        unread_answered,
        read_unanswered,
    }
    counts = (
        await client.get("/api/v1/conversations/counts", headers=dealer.sam, params={"view": "mine"})
    ).json()
    assert counts["read"] == {"read": 2, "unread": 1, "unanswered": 1}
    assert counts["current"] == 3


async def test_pages_have_no_duplicates_and_no_gaps_in_activity_order(client, dealer, pages):
    base = datetime.now(UTC) - timedelta(days=2)
    created = [str(await dealer.receive(base + timedelta(minutes=i))) for i in range(23)]
    # Two conversations with the very same last activity: the id breaks the tie.
    same_time = base + timedelta(minutes=11, seconds=30)
    created.append(str(await dealer.receive(same_time)))
    created.append(str(await dealer.receive(same_time)))

    found = await pages(client, dealer.sam, 4, view="all")
    assert [len(page) for page in found] == [4, 4, 4, 4, 4, 4, 1]
    ids = [row["id"] for page in found for row in page]
    assert len(ids) == len(set(ids)) == 25
    assert set(ids) == set(created)
    keys = [(row["last_activity_at"], row["id"]) for page in found for row in page]
    ordered = sorted(((datetime.fromisoformat(at), row_id) for at, row_id in keys), reverse=True)
    assert [(datetime.fromisoformat(at), row_id) for at, row_id in keys] == ordered

    bad = await client.get("/api/v1/conversations", headers=dealer.sam, params={"cursor": "nonsense"})
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid_cursor"


async def test_counts_per_view_status_and_assignee(client, dealer, ago):
    to_sam = await dealer.receive(ago(1))
    to_team = await dealer.receive(ago(1))
    await dealer.receive(ago(1))
    closed = await dealer.receive(ago(1))
    await dealer.set_assignee(to_sam, user_id=dealer.sam_id)
    await dealer.set_assignee(to_team, team_id=dealer.team_id)
    assert (await client.post(f"/api/v1/conversations/{closed}/close", headers=dealer.admin)).is_success

    response = await client.get("/api/v1/conversations/counts", headers=dealer.sam)
    assert response.status_code == 200, response.text
    counts = response.json()
    assert counts["views"]["mine"] == 2
    assert counts["views"]["all"] == 3
    assert counts["views"]["unassigned"] == 1
    assert counts["views"]["users"] == {str(dealer.sam_id): 1}
    assert counts["views"]["teams"] == {str(dealer.team_id): 1}
    assert counts["status"] == {"open": 3, "closed": 1, "archived": 0, "all": 4}
    assert counts["current"] == 3


async def test_an_unassigned_conversation_is_read_once_anyone_read_it(client, dealer, ago, listed):
    conversation = str(await dealer.receive(ago(1)))
    assert (await listed(client, dealer.admin, read="unread")).keys() == {conversation}
    assert (await client.post(f"/api/v1/conversations/{conversation}/read", headers=dealer.sam)).is_success
    assert (await listed(client, dealer.admin, read="read")).keys() == {conversation}


async def test_the_openapi_document_describes_the_inbox(app):
    document = app.openapi()
    paths = document["paths"]
    for path in (
        "/api/v1/conversations",
        "/api/v1/conversations/counts",
        "/api/v1/conversations/assign",
        "/api/v1/conversations/{conversation_id}/read",
        "/api/v1/conversations/{conversation_id}/close",
        "/api/v1/conversations/{conversation_id}/reopen",
        "/api/v1/conversations/{conversation_id}/timeline",
    ):
        assert path in paths
        for operation in paths[path].values():
            assert operation["summary"]
    summary = document["components"]["schemas"]["ConversationSummary"]["properties"]
    assert {"unread_for_me", "assignee_has_not_read", "overdue"} <= summary.keys()
