"""Teams through the admin API: any staff member reads them, admins create, rename, set members
and delete them; a team conversations are assigned to is kept."""

import uuid

from sqlalchemy import select

from routing.tables import team_members, teams


async def create_team(client, headers, name: str, member_ids=()) -> dict:
    body = {"name": name, "member_ids": [str(i) for i in member_ids]}
    response = await client.post("/api/v1/teams", headers=headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def test_any_staff_member_lists_the_teams_with_their_members(client, dealer, other_dealer):
    response = await client.get("/api/v1/teams", headers=dealer.sam)
    assert response.status_code == 200
    assert [(t["id"], t["name"], sorted(t["member_ids"])) for t in response.json()] == [
        (str(dealer.team_id), "Service", sorted([str(dealer.sam_id), str(dealer.kim_id)]))
    ]
    one = await client.get(f"/api/v1/teams/{dealer.team_id}", headers=dealer.sam)
    assert one.json()["name"] == "Service"
    assert (await client.get(f"/api/v1/teams/{uuid.uuid4()}", headers=dealer.sam)).status_code == 404


async def test_an_admin_creates_renames_and_staffs_a_team(client, dealer):
    team = await create_team(client, dealer.admin, " Sales ", [dealer.lou_id, dealer.lou_id])
    assert (team["name"], team["member_ids"]) == ("Sales", [str(dealer.lou_id)])

    response = await client.patch(
        f"/api/v1/teams/{team['id']}", headers=dealer.admin, json={"name": "Sales floor"}
    )
    assert response.status_code == 200 and response.json()["name"] == "Sales floor"

    members = [str(dealer.sam_id), str(dealer.admin_id)]
    response = await client.put(
        f"/api/v1/teams/{team['id']}/members", headers=dealer.admin, json={"user_ids": members}
    )
    assert response.status_code == 200, response.text
    assert sorted(response.json()["member_ids"]) == sorted(members)
    sam = (await client.get("/api/v1/me", headers=dealer.sam)).json()
    assert {t["name"] for t in sam["teams"]} == {"Service", "Sales floor"}

    response = await client.put(
        f"/api/v1/teams/{team['id']}/members", headers=dealer.admin, json={"user_ids": []}
    )
    assert response.json()["member_ids"] == []


async def test_team_names_are_unique_per_account_whatever_their_case(client, dealer, other_dealer):
    response = await client.post("/api/v1/teams", headers=dealer.admin, json={"name": "SERVICE"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "team_name_taken"
    sales = await create_team(client, dealer.admin, "Sales")
    response = await client.patch(
        f"/api/v1/teams/{sales['id']}", headers=dealer.admin, json={"name": "service"}
    )
    assert response.status_code == 409
    # Renaming a team to its own name in another case is fine; another account's names are theirs.
    response = await client.patch(
        f"/api/v1/teams/{sales['id']}", headers=dealer.admin, json={"name": "SALES"}
    )
    assert response.status_code == 200
    await create_team(client, other_dealer.admin, "Sales")
    assert (await client.post("/api/v1/teams", headers=dealer.admin, json={"name": ""})).status_code == 422


async def test_members_must_be_active_users_of_the_account(client, dealer, other_dealer):
    response = await client.patch(
        f"/api/v1/users/{dealer.lou_id}", headers=dealer.admin, json={"active": False}
    )
    assert response.status_code == 200
    stranger = uuid.uuid4()
    for bad in (other_dealer.sam_id, dealer.lou_id, stranger):
        response = await client.put(
            f"/api/v1/teams/{dealer.team_id}/members",
            headers=dealer.admin,
            json={"user_ids": [str(dealer.sam_id), str(bad)]},
        )
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert (error["code"], error["details"]["user_ids"]) == ("invalid_members", [str(bad)])
        response = await client.post(
            "/api/v1/teams", headers=dealer.admin, json={"name": f"T {bad}", "member_ids": [str(bad)]}
        )
        assert response.status_code == 422
    team = (await client.get(f"/api/v1/teams/{dealer.team_id}", headers=dealer.admin)).json()
    assert sorted(team["member_ids"]) == sorted([str(dealer.sam_id), str(dealer.kim_id)])
    names = [t["name"] for t in (await client.get("/api/v1/teams", headers=dealer.admin)).json()]
    assert names == ["Service"]


async def test_a_team_with_assigned_conversations_cannot_be_deleted(client, dealer, ago):
    parts = await create_team(client, dealer.admin, "Parts", [dealer.kim_id])
    closed = await dealer.receive(ago(2))
    await dealer.set_assignee(closed, team_id=uuid.UUID(parts["id"]))
    assert (
        await client.post(f"/api/v1/conversations/{closed}/close", headers=dealer.admin)
    ).status_code == 200

    response = await client.delete(f"/api/v1/teams/{parts['id']}", headers=dealer.admin)
    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert (error["code"], error["details"]) == ("team_in_use", {"assigned_conversations": 1})
    assert (await client.get(f"/api/v1/teams/{parts['id']}", headers=dealer.admin)).status_code == 200

    await dealer.set_assignee(closed, user_id=dealer.kim_id)
    response = await client.delete(f"/api/v1/teams/{parts['id']}", headers=dealer.admin)
    assert response.status_code == 204
    assert (await client.get(f"/api/v1/teams/{parts['id']}", headers=dealer.admin)).status_code == 404
    kim = (await client.get(f"/api/v1/users/{dealer.kim_id}", headers=dealer.admin)).json()
    assert kim["team_ids"] == [str(dealer.team_id)]
    assert (await client.delete(f"/api/v1/teams/{parts['id']}", headers=dealer.admin)).status_code == 404


async def test_agents_cannot_change_teams(client, dealer):
    team = f"/api/v1/teams/{dealer.team_id}"
    for method, path, body in (
        ("POST", "/api/v1/teams", {"name": "Agents only"}),
        ("PATCH", team, {"name": "Renamed"}),
        ("PUT", f"{team}/members", {"user_ids": [str(dealer.sam_id)]}),
        ("DELETE", team, None),
    ):
        response = await client.request(method, path, headers=dealer.sam, json=body)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["error"]["code"] == "forbidden"
    after = (await client.get(team, headers=dealer.sam)).json()
    assert (after["name"], len(after["member_ids"])) == ("Service", 2)


async def test_another_accounts_teams_are_not_found(client, dealer, other_dealer):
    headers = other_dealer.admin
    team = f"/api/v1/teams/{dealer.team_id}"
    for method, path, body in (
        ("GET", team, None),
        ("PATCH", team, {"name": "Taken over"}),
        ("PUT", f"{team}/members", {"user_ids": [str(other_dealer.sam_id)]}),
        ("PUT", f"{team}/members", {"user_ids": []}),
        ("DELETE", team, None),
    ):
        response = await client.request(method, path, headers=headers, json=body)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["code"] == "not_found"
    listed = (await client.get("/api/v1/teams", headers=headers)).json()
    assert str(dealer.team_id) not in {t["id"] for t in listed}

    # Their own team cannot take in one of our users either.
    response = await client.put(
        f"/api/v1/teams/{other_dealer.team_id}/members",
        headers=headers,
        json={"user_ids": [str(dealer.sam_id)]},
    )
    assert response.status_code == 422
    async with dealer.sessions() as session:
        row = (await session.execute(select(teams).where(teams.c.id == dealer.team_id))).one()
        members = set(
            await session.scalars(select(team_members.c.user_id).where(team_members.c.team_id == row.id))
        )
        theirs = set(
            await session.scalars(
                select(team_members.c.user_id).where(team_members.c.team_id == other_dealer.team_id)
            )
        )
    assert row.name == "Service" and members == {dealer.sam_id, dealer.kim_id}
    assert theirs == {other_dealer.sam_id, other_dealer.kim_id}
