"""Customer profiles through the staff API: numbers in any human format stored in E.164 and
typed, one number per customer of an account, edits, search and paging."""

import asyncio
from datetime import UTC, datetime
from uuid import uuid4

from sqlalchemy import select

from routing.tables import conversations, customer_phones, messages, opt_outs

API = "/api/v1/customers"


async def create(client, headers, **body):
    response = await client.post(API, headers=headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def test_any_human_format_is_stored_in_e164_and_typed(client, dealer):
    created = await create(
        client,
        dealer.sam,
        first_name=" Jo ",
        last_name="Tremblay",
        email="jo@example.com",
        phones=[
            {"number": "(514) 555-0100"},
            {"number": "+33 6 12 34 56 78"},
            {"number": "+33 1 42 68 53 00"},
        ],
    )
    assert created["first_name"] == "Jo"
    phones = {p["e164"]: p for p in created["phones"]}
    assert list(phones) == ["+15145550100", "+33612345678", "+33142685300"]
    assert phones["+15145550100"]["kind"] == "unknown"
    assert phones["+15145550100"]["national_format"] == "(514) 555-0100"
    assert phones["+33612345678"]["kind"] == "mobile"
    assert phones["+33142685300"]["kind"] == "landline"
    assert not any(p["opted_out"] for p in created["phones"])
    assert created["active_conversation_id"] is None
    assert created["archived_conversation_ids"] == []

    fetched = (await client.get(f"{API}/{created['id']}", headers=dealer.admin)).json()
    assert fetched == created


async def test_staff_may_give_the_kind_at_creation(client, dealer):
    created = await create(client, dealer.sam, phones=[{"number": "514.555.0101", "kind": "landline"}])
    assert created["phones"][0]["kind"] == "landline"


async def test_an_unreadable_number_is_422_with_its_location(client, dealer):
    response = await client.post(
        API, headers=dealer.sam, json={"phones": [{"number": "514 555 0102"}, {"number": "call me"}]}
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_phone_number"
    assert error["details"][0]["loc"] == ["body", "phones", 1, "number"]
    # Nothing was stored: the readable number is still free.
    assert (await client.get(API, headers=dealer.sam, params={"q": "5145550102"})).json()["items"] == []


async def test_the_same_number_twice_in_one_request_is_422(client, dealer):
    response = await client.post(
        API, headers=dealer.sam, json={"phones": [{"number": "514 555 0103"}, {"number": "(514) 555-0103"}]}
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["loc"] == ["body", "phones", 1, "number"]


async def test_bad_fields_are_422(client, dealer):
    for body in ({"email": "not an address"}, {"first_name": "x" * 201}, {"nickname": "Jo"}):
        response = await client.post(API, headers=dealer.sam, json=body)
        assert response.status_code == 422, body
        assert response.json()["error"]["code"] == "invalid_request"


async def test_a_number_of_another_customer_is_409_with_its_holder(client, dealer):
    holder = await create(client, dealer.sam, first_name="Holder", phones=[{"number": "+1 514 555 0104"}])
    response = await client.post(
        API,
        headers=dealer.headers(dealer.kim_id),
        json={"first_name": "Second", "phones": [{"number": "514-555-0104"}]},
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "phone_taken"
    assert error["details"]["customer_id"] == holder["id"]
    assert error["details"]["loc"] == ["body", "phones", 0, "number"]
    # The refused customer was not created.
    names = [c["first_name"] for c in (await client.get(API, headers=dealer.sam)).json()["items"]]
    assert names == ["Holder"]


async def test_a_number_that_texted_in_already_has_a_customer(client, dealer):
    conversation_id = await dealer.receive(datetime.now(UTC), customer_number="+15145550105")
    response = await client.post(API, headers=dealer.sam, json={"phones": [{"number": "5145550105"}]})
    assert response.status_code == 409
    holder = response.json()["error"]["details"]["customer_id"]
    profile = (await client.get(f"{API}/{holder}", headers=dealer.sam)).json()
    assert profile["active_conversation_id"] == str(conversation_id)


async def test_the_same_number_in_two_accounts_is_two_customers(client, dealer, other_dealer):
    ours = await create(client, dealer.sam, phones=[{"number": "514 555 0106"}])
    theirs = await create(client, other_dealer.sam, phones=[{"number": "(514) 555-0106"}])
    assert ours["id"] != theirs["id"]
    assert ours["phones"][0]["e164"] == theirs["phones"][0]["e164"] == "+15145550106"


async def test_patch_changes_only_the_fields_sent(client, dealer):
    created = await create(client, dealer.sam, first_name="Jo", last_name="Tremblay", email="jo@example.com")
    response = await client.patch(
        f"{API}/{created['id']}",
        headers=dealer.headers(dealer.kim_id),
        json={"last_name": "Roy", "email": None},
    )
    assert response.status_code == 200, response.text
    patched = response.json()
    assert (patched["first_name"], patched["last_name"], patched["email"]) == ("Jo", "Roy", None)
    assert patched["updated_at"] > created["updated_at"]
    assert (
        await client.patch(
            f"{API}/{created['id']}", headers=dealer.headers(dealer.kim_id), json={"email": "x"}
        )
    ).status_code == 422


async def test_add_retype_and_remove_numbers(client, dealer):
    created = await create(client, dealer.sam, first_name="Jo")
    added = await client.post(
        f"{API}/{created['id']}/phones", headers=dealer.sam, json={"number": "(514) 555-0107"}
    )
    assert added.status_code == 201, added.text
    phone = added.json()
    assert (phone["e164"], phone["kind"]) == ("+15145550107", "unknown")

    retyped = await client.patch(
        f"{API}/{created['id']}/phones/{phone['id']}", headers=dealer.sam, json={"kind": "landline"}
    )
    assert retyped.status_code == 200
    assert retyped.json()["kind"] == "landline"
    bad = await client.patch(
        f"{API}/{created['id']}/phones/{phone['id']}", headers=dealer.sam, json={"kind": "fax"}
    )
    assert bad.status_code == 422

    again = await client.post(
        f"{API}/{created['id']}/phones", headers=dealer.sam, json={"number": "514 555 0107"}
    )
    assert again.status_code == 409
    assert again.json()["error"]["details"]["customer_id"] == created["id"]
    invalid = await client.post(f"{API}/{created['id']}/phones", headers=dealer.sam, json={"number": "12"})
    assert invalid.status_code == 422
    assert invalid.json()["error"]["details"][0]["loc"] == ["body", "number"]

    removed = await client.delete(f"{API}/{created['id']}/phones/{phone['id']}", headers=dealer.sam)
    assert removed.status_code == 204
    assert (await client.get(f"{API}/{created['id']}", headers=dealer.sam)).json()["phones"] == []
    gone = await client.delete(f"{API}/{created['id']}/phones/{phone['id']}", headers=dealer.sam)
    assert gone.status_code == 404
    # The number is free again.
    await create(client, dealer.sam, phones=[{"number": "5145550107"}])


async def test_a_phone_of_another_customer_is_not_found_through_this_one(client, dealer):
    first = await create(client, dealer.sam, phones=[{"number": "514 555 0108"}])
    second = await create(client, dealer.sam)
    path = f"{API}/{second['id']}/phones/{first['phones'][0]['id']}"
    assert (await client.patch(path, headers=dealer.sam, json={"kind": "mobile"})).status_code == 404
    assert (await client.delete(path, headers=dealer.sam)).status_code == 404
    kept = (await client.get(f"{API}/{first['id']}", headers=dealer.sam)).json()["phones"][0]
    assert kept["kind"] == "unknown"


async def test_removing_the_number_keeps_the_conversation(client, dealer):
    conversation_id = await dealer.receive(
        datetime.now(UTC), body="still here", customer_number="+15145550109"
    )
    async with dealer.sessions() as session:
        customer_id = await session.scalar(
            select(conversations.c.customer_id).where(conversations.c.id == conversation_id)
        )
        phone_id = await session.scalar(
            select(customer_phones.c.id).where(customer_phones.c.customer_id == customer_id)
        )
    assert (
        await client.delete(f"{API}/{customer_id}/phones/{phone_id}", headers=dealer.sam)
    ).status_code == 204
    profile = (await client.get(f"{API}/{customer_id}", headers=dealer.sam)).json()
    assert profile["phones"] == []
    assert profile["active_conversation_id"] == str(conversation_id)
    async with dealer.sessions() as session:
        bodies = list(
            await session.scalars(
                select(messages.c.body).where(messages.c.conversation_id == conversation_id)
            )
        )
    assert bodies == ["still here"]


async def test_profile_shows_opt_outs_and_archived_conversations(client, dealer):
    created = await create(
        client, dealer.sam, phones=[{"number": "514 555 0110"}, {"number": "514 555 0111"}]
    )
    archived_id = uuid4()
    async with dealer.sessions.begin() as session:
        await session.execute(
            opt_outs.insert().values(
                account_id=dealer.account_id,
                customer_e164="+15145550111",
                dealership_e164=dealer.number,
                keyword="STOP",
                opted_out_at=datetime.now(UTC),
            )
        )
        await session.execute(
            conversations.insert().values(
                id=archived_id, account_id=dealer.account_id, customer_id=created["id"], status="archived"
            )
        )
    profile = (await client.get(f"{API}/{created['id']}", headers=dealer.sam)).json()
    assert {p["e164"]: p["opted_out"] for p in profile["phones"]} == {
        "+15145550110": False,
        "+15145550111": True,
    }
    assert profile["archived_conversation_ids"] == [str(archived_id)]
    assert profile["active_conversation_id"] is None


async def test_search_by_name_prefix_any_case(client, dealer):
    for first, last in (("Jo", "Tremblay"), ("Joanne", "Roy"), ("Marc", "Jolicoeur"), ("Anne", "Gagnon")):
        await create(client, dealer.sam, first_name=first, last_name=last)

    async def names(q):
        response = await client.get(API, headers=dealer.sam, params={"q": q})
        assert response.status_code == 200, response.text
        return [f"{c['first_name']} {c['last_name']}" for c in response.json()["items"]]

    assert await names("jo") == ["Marc Jolicoeur", "Joanne Roy", "Jo Tremblay"]
    assert await names("JO TR") == ["Jo Tremblay"]
    assert await names("anne") == ["Anne Gagnon"]  # a prefix, not a substring of "Joanne"
    assert await names("%") == []  # LIKE wildcards are plain characters
    assert await names("zzz") == []


async def test_search_by_phone_digits_in_any_format(client, dealer):
    jo = await create(client, dealer.sam, first_name="Jo", phones=[{"number": "514 555 0112"}])
    await create(client, dealer.sam, first_name="Fr", phones=[{"number": "+33 6 12 34 56 78"}])

    async def found(q):
        response = await client.get(API, headers=dealer.sam, params={"q": q})
        return [c["first_name"] for c in response.json()["items"]]

    for q in ("(514) 555-0112", "514.555.0112", "+1 514 555 0112", "555-01", "0112"):
        assert await found(q) == ["Jo"], q
    assert await found("+33 6 12 34 56 78") == ["Fr"]
    assert await found("06 12 34 56 78") == ["Fr"]  # as the French write it, trunk prefix and all
    assert await found("555-0199") == []
    listed = (await client.get(API, headers=dealer.sam, params={"q": "0112"})).json()["items"][0]
    assert listed["id"] == jo["id"]
    assert listed["phones"][0]["e164"] == "+15145550112"


async def test_keyset_pages_cover_everyone_once_unnamed_last(client, dealer):
    await dealer.receive(datetime.now(UTC), customer_number="+15145550113")  # an unnamed customer
    for index in range(7):
        await create(
            client, dealer.sam, first_name=f"N{index}", last_name="Same" if index % 2 else f"L{index}"
        )
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(API, headers=dealer.sam, params=params)).json()
        assert len(page["items"]) <= 3
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 8
    assert len({c["id"] for c in seen}) == 8
    assert [c["last_name"] for c in seen][:4] == ["L0", "L2", "L4", "L6"]
    assert [c["first_name"] for c in seen][4:7] == ["N1", "N3", "N5"]
    assert seen[-1]["first_name"] is None and seen[-1]["phones"][0]["e164"] == "+15145550113"


async def test_a_forged_cursor_is_422(client, dealer):
    response = await client.get(API, headers=dealer.sam, params={"cursor": "bm90LWEtY3Vyc29y"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_cursor"


async def test_an_unknown_customer_is_404(client, dealer):
    response = await client.get(f"{API}/{uuid4()}", headers=dealer.sam)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_staff_only(client, dealer):
    assert (await client.get(API)).status_code == 401


async def test_two_staff_adding_the_same_number_at_once_give_it_to_one_customer(client, dealer):
    first = await create(client, dealer.sam, first_name="First")
    second = await create(client, dealer.sam, first_name="Second")
    number = {"number": "514 555 0114"}
    responses = await asyncio.gather(
        client.post(f"{API}/{first['id']}/phones", headers=dealer.sam, json=number),
        client.post(f"{API}/{second['id']}/phones", headers=dealer.sam, json=number),
        client.post(API, headers=dealer.admin, json={"first_name": "Third", "phones": [number]}),
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409], [r.text for r in responses]
    holders = {r.json()["error"]["details"]["customer_id"] for r in responses if r.status_code == 409}
    found = (await client.get(API, headers=dealer.sam, params={"q": "5145550114"})).json()["items"]
    assert [c["id"] for c in found] == list(holders)


async def test_the_openapi_document_describes_the_customers_api(app):
    document = app.openapi()
    paths = document["paths"]
    for path, methods in {
        API: {"get", "post"},
        f"{API}/{{customer_id}}": {"get", "patch"},
        f"{API}/{{customer_id}}/phones": {"post"},
        f"{API}/{{customer_id}}/phones/{{phone_id}}": {"patch", "delete"},
        f"{API}/{{customer_id}}/notes": {"get", "post"},
    }.items():
        assert methods <= paths[path].keys(), path
        for method in methods:
            operation = paths[path][method]
            assert operation["summary"], (path, method)
            assert {"401", "403"} <= operation["responses"].keys(), (path, method)
    assert "409" in paths[API]["post"]["responses"]
    assert "409" in paths[f"{API}/{{customer_id}}/phones"]["post"]["responses"]
    phone = document["components"]["schemas"]["PhoneView"]["properties"]
    assert {"e164", "kind", "opted_out", "national_format"} <= phone.keys()
    assert phone["opted_out"]["description"]
