"""One account never sees nor changes another's customers, numbers or notes: each id of another
account answers exactly like an id that does not exist."""

from uuid import uuid4

from shared.http.auth import issue_token

API = "/api/v1/customers"


async def ours(client, dealer) -> dict:
    response = await client.post(
        API,
        headers=dealer.sam,
        json={"first_name": "Private", "last_name": "Person", "phones": [{"number": "514 555 0199"}]},
    )
    assert response.status_code == 201, response.text
    customer = response.json()
    note = await client.post(f"{API}/{customer['id']}/notes", headers=dealer.sam, json={"body": "secret"})
    assert note.status_code == 201
    return customer


async def test_another_account_cannot_find_our_customers(client, dealer, other_dealer):
    await ours(client, dealer)
    for q in (None, "priv", "person", "5145550199", "(514) 555-0199"):
        params = {"q": q} if q else {}
        response = await client.get(API, headers=other_dealer.admin, params=params)
        assert response.status_code == 200
        assert response.json()["items"] == [], q


async def test_every_route_answers_404_for_another_accounts_ids(client, dealer, other_dealer):
    customer = await ours(client, dealer)
    customer_id, phone_id = customer["id"], customer["phones"][0]["id"]
    theirs = await client.post(API, headers=other_dealer.sam, json={"first_name": "Theirs"})
    their_id = theirs.json()["id"]
    headers = other_dealer.admin
    for method, path, body in (
        ("GET", f"{API}/{customer_id}", None),
        ("PATCH", f"{API}/{customer_id}", {"first_name": "Hacked"}),
        ("POST", f"{API}/{customer_id}/phones", {"number": "514 555 0198"}),
        ("PATCH", f"{API}/{customer_id}/phones/{phone_id}", {"kind": "landline"}),
        ("DELETE", f"{API}/{customer_id}/phones/{phone_id}", None),
        # Their own customer with our phone id: still not theirs.
        ("PATCH", f"{API}/{their_id}/phones/{phone_id}", {"kind": "landline"}),
        ("DELETE", f"{API}/{their_id}/phones/{phone_id}", None),
        ("GET", f"{API}/{customer_id}/notes", None),
        ("POST", f"{API}/{customer_id}/notes", {"body": "sneaky"}),
    ):
        response = await client.request(method, path, headers=headers, json=body)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["code"] == "not_found"
        missing = path.replace(customer_id, str(uuid4()))
        assert (await client.request(method, missing, headers=headers, json=body)).json() == response.json()

    unchanged = (await client.get(f"{API}/{customer_id}", headers=dealer.sam)).json()
    assert unchanged["first_name"] == "Private"
    assert [(p["e164"], p["kind"]) for p in unchanged["phones"]] == [("+15145550199", "unknown")]
    notes = (await client.get(f"{API}/{customer_id}/notes", headers=dealer.sam)).json()["items"]
    assert [n["body"] for n in notes] == ["secret"]


async def test_a_number_held_in_another_account_does_not_reveal_its_holder(client, dealer, other_dealer):
    await ours(client, dealer)
    response = await client.post(API, headers=other_dealer.sam, json={"phones": [{"number": "+15145550199"}]})
    assert response.status_code == 201


async def test_service_tokens_are_not_staff(client, dealer):
    token = issue_token(dealer.settings, "exporter", dealer.account_id, "service")
    response = await client.get(API, headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 403
