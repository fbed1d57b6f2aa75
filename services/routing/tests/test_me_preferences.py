"""A staff member's own language and time zone: null by default (the browser's language, the
dealership's zone), set with PATCH /api/v1/me, validated, and their own only."""


async def test_preferences_default_to_null(client, dealer):
    me = (await client.get("/api/v1/me", headers=dealer.sam)).json()
    assert me["language"] is None
    assert me["time_zone"] is None


async def test_a_staff_member_sets_their_language_and_time_zone(client, dealer):
    response = await client.patch(
        "/api/v1/me", headers=dealer.sam, json={"language": "fr_CA", "time_zone": "America/Vancouver"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["language"] == "fr_CA"
    assert response.json()["time_zone"] == "America/Vancouver"
    me = (await client.get("/api/v1/me", headers=dealer.sam)).json()
    assert (me["language"], me["time_zone"], me["id"]) == ("fr_CA", "America/Vancouver", str(dealer.sam_id))

    # Only the fields given change; null goes back to the default.
    response = await client.patch("/api/v1/me", headers=dealer.sam, json={"time_zone": None})
    assert (response.json()["language"], response.json()["time_zone"]) == ("fr_CA", None)

    # Someone else's profile is untouched.
    kim_me = (await client.get("/api/v1/me", headers=dealer.headers(dealer.kim_id))).json()
    assert kim_me["language"] is None


async def test_unknown_language_zone_or_field_is_refused(client, dealer):
    for body in (
        {"language": "de"},
        {"language": "fr"},
        {"time_zone": "Mars/Olympus"},
        {"time_zone": "../../etc/passwd"},
        {"role": "admin"},
    ):
        response = await client.patch("/api/v1/me", headers=dealer.sam, json=body)
        assert response.status_code == 422, (body, response.text)
    me = (await client.get("/api/v1/me", headers=dealer.sam)).json()
    assert (me["language"], me["time_zone"], me["role"]) == (None, None, "agent")


async def test_without_a_token_nothing_changes(client):
    response = await client.patch("/api/v1/me", json={"language": "en"})
    assert response.status_code == 401
