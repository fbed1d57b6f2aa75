"""The saved replies API: create, read, change, delete, preview; who may write; isolation."""

from uuid import uuid4

from sqlalchemy import select, update

from routing.tables import accounts, conversations, customers

URL = "/api/v1/saved-replies"


def _kim(dealer) -> dict:
    return dealer.headers(dealer.kim_id)


async def _create(client, headers, name: str, body: str) -> dict:
    response = await client.post(URL, headers=headers, json={"name": name, "body": body})
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_read_list_update_and_delete(client, dealer):
    created = await _create(
        client,
        dealer.sam,
        " Welcome ",
        "Hi {{ customer.first_name | default('there') }}, {{ sender.first_name }}",
    )
    assert created["name"] == "Welcome"
    assert created["placeholders"] == ["customer.first_name", "sender.first_name"]
    assert created["created_by_user_id"] == str(dealer.sam_id)
    await _create(client, dealer.admin, "after hours", "We are closed.")

    listed = (await client.get(URL, headers=_kim(dealer))).json()
    assert [r["name"] for r in listed] == ["after hours", "Welcome"]
    one = await client.get(f"{URL}/{created['id']}", headers=_kim(dealer))
    assert one.status_code == 200 and one.json()["body"] == created["body"]

    changed = await client.patch(
        f"{URL}/{created['id']}", headers=dealer.sam, json={"body": "Hello {{ customer.full_name }}"}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["name"] == "Welcome"
    assert changed.json()["placeholders"] == ["customer.full_name"]
    assert changed.json()["updated_at"] >= created["updated_at"]

    deleted = await client.delete(f"{URL}/{created['id']}", headers=dealer.sam)
    assert deleted.status_code == 204
    assert (await client.get(f"{URL}/{created['id']}", headers=dealer.sam)).status_code == 404
    assert [r["name"] for r in (await client.get(URL, headers=dealer.sam)).json()] == ["after hours"]


async def test_invalid_templates_are_refused_at_save_with_the_offending_names(client, dealer):
    response = await client.post(
        URL,
        headers=dealer.sam,
        json={
            "name": "bad",
            "body": "Hi {{ customer.nickname }} {{ customer.__class__ }} {{ x | attr('y') }}",
        },
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_template"
    names = [(p["kind"], p["name"]) for p in error["details"]["problems"]]
    assert ("unknown_placeholder", "customer.nickname") in names
    assert ("unknown_placeholder", "customer.__class__") in names
    assert ("filter_not_allowed", "attr") in names
    assert "customer.first_name" in error["details"]["allowed_placeholders"]

    syntax = await client.post(URL, headers=dealer.sam, json={"name": "bad", "body": "Hi {{ customer."})
    assert syntax.status_code == 422
    assert syntax.json()["error"]["details"]["problems"][0]["kind"] == "syntax_error"

    too_long = await client.post(URL, headers=dealer.sam, json={"name": "long", "body": "x" * 1601})
    assert too_long.status_code == 422

    good = await _create(client, dealer.sam, "ok", "Hi {{ customer.first_name }}")
    patched = await client.patch(f"{URL}/{good['id']}", headers=dealer.sam, json={"body": "{{ 1 + 1 }}"})
    assert patched.status_code == 422
    assert patched.json()["error"]["code"] == "invalid_template"
    assert (await client.get(f"{URL}/{good['id']}", headers=dealer.sam)).json()["body"] == good["body"]

    # Nothing invalid was stored.
    assert [r["name"] for r in (await client.get(URL, headers=dealer.sam)).json()] == ["ok"]


async def test_names_are_unique_per_account(client, dealer, other_dealer):
    first = await _create(client, dealer.sam, "Thanks", "Thank you!")
    again = await client.post(URL, headers=_kim(dealer), json={"name": "Thanks", "body": "Merci"})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "name_taken"
    other = await _create(client, dealer.sam, "Other", "x")
    renamed = await client.patch(f"{URL}/{other['id']}", headers=dealer.sam, json={"name": "Thanks"})
    assert renamed.status_code == 409
    # Another account may use the same name.
    await _create(client, other_dealer.sam, "Thanks", "Thanks from us")
    assert (
        await client.patch(f"{URL}/{first['id']}", headers=dealer.sam, json={"name": "Thanks"})
    ).is_success


async def test_agents_change_only_their_own_and_admins_change_any(client, dealer):
    sams = await _create(client, dealer.sam, "sam's", "From Sam")
    admins = await _create(client, dealer.admin, "admin's", "From admin")

    kim_edit = await client.patch(f"{URL}/{sams['id']}", headers=_kim(dealer), json={"body": "Kim was here"})
    assert kim_edit.status_code == 403
    assert (await client.delete(f"{URL}/{admins['id']}", headers=dealer.sam)).status_code == 403

    admin_edit = await client.patch(f"{URL}/{sams['id']}", headers=dealer.admin, json={"body": "Edited"})
    assert admin_edit.status_code == 200
    assert (await client.delete(f"{URL}/{sams['id']}", headers=dealer.admin)).status_code == 204


async def test_another_accounts_saved_reply_is_not_found(client, dealer, other_dealer):
    theirs = await _create(client, other_dealer.admin, "theirs", "Secret {{ dealership.name }}")
    missing = str(uuid4())
    for reply_id in (theirs["id"], missing):
        assert (await client.get(f"{URL}/{reply_id}", headers=dealer.admin)).status_code == 404
        patched = await client.patch(f"{URL}/{reply_id}", headers=dealer.admin, json={"body": "mine now"})
        assert patched.status_code == 404
        assert patched.json()["error"]["code"] == "not_found"
        assert (await client.delete(f"{URL}/{reply_id}", headers=dealer.admin)).status_code == 404
    assert "theirs" not in [r["name"] for r in (await client.get(URL, headers=dealer.admin)).json()]
    assert (await client.get(f"{URL}/{theirs['id']}", headers=other_dealer.admin)).json()["body"] == theirs[
        "body"
    ]


async def test_preview_renders_for_a_conversation_or_customer(client, dealer, other_dealer, ago):
    conversation = await dealer.receive(ago(1))
    async with dealer.sessions.begin() as session:
        customer_id = await session.scalar(
            select(conversations.c.customer_id).where(conversations.c.id == conversation)
        )
        await session.execute(
            update(customers).where(customers.c.id == customer_id).values(first_name="Ann", last_name="Lee")
        )
        dealership = await session.scalar(select(accounts.c.name).where(accounts.c.id == dealer.account_id))
    reply = await _create(
        client,
        dealer.admin,
        "appointment",
        "{{ customer.first_name }}, {{ sender.first_name }} at {{ dealership.name }}: {{ appointment.date }}",
    )
    preview = await client.post(
        f"{URL}/{reply['id']}/preview",
        headers=dealer.sam,
        json={"conversation_id": str(conversation), "variables": {"appointment.date": "May 3"}},
    )
    assert preview.status_code == 200, preview.text
    assert preview.json() == {"text": f"Ann, Sam at {dealership}: May 3"}

    missing = await client.post(
        f"{URL}/{reply['id']}/preview",
        headers=_kim(dealer),
        json={"customer_id": str(customer_id)},
    )
    assert missing.status_code == 422
    assert missing.json()["error"]["code"] == "template_missing_values"
    assert missing.json()["error"]["details"] == {"missing": ["appointment.date"]}

    unknown_variable = await client.post(
        f"{URL}/{reply['id']}/preview",
        headers=_kim(dealer),
        json={"customer_id": str(customer_id), "variables": {"vehicle.vin": "x"}},
    )
    assert unknown_variable.status_code == 422
    assert unknown_variable.json()["error"]["code"] == "invalid_request"

    # Another account's conversation, customer or saved reply: not found.
    their_conversation = await other_dealer.receive(ago(1))
    for payload in ({"conversation_id": str(their_conversation)}, {"conversation_id": str(uuid4())}):
        response = await client.post(f"{URL}/{reply['id']}/preview", headers=dealer.sam, json=payload)
        assert response.status_code == 404
    theirs = await _create(client, other_dealer.admin, "theirs", "Hi")
    response = await client.post(
        f"{URL}/{theirs['id']}/preview", headers=dealer.sam, json={"customer_id": str(customer_id)}
    )
    assert response.status_code == 404


async def test_only_staff_tokens_are_accepted(client, dealer):
    assert (await client.get(URL)).status_code == 401
    assert (await client.get(f"{URL}/placeholders", headers=dealer.sam)).json()["filters"][0] == "default"


async def test_the_openapi_document_describes_saved_replies(app):
    document = app.openapi()
    paths = document["paths"]
    assert set(paths[URL]) == {"get", "post"}
    assert set(paths[f"{URL}/{{saved_reply_id}}"]) == {"get", "patch", "delete"}
    preview = paths[f"{URL}/{{saved_reply_id}}/preview"]["post"]
    assert {"404", "422"} <= preview["responses"].keys()
    assert "template_missing_values" in preview["description"]
    create = paths[URL]["post"]
    assert {"409", "422"} <= create["responses"].keys()
    body = document["components"]["schemas"]["SavedReplyCreate"]["properties"]["body"]
    assert "customer.first_name" in body["description"]
    assert body["maxLength"] == 1600


async def test_a_draft_is_previewed_before_it_is_saved(client, dealer, other_dealer, ago):
    conversation = await dealer.receive(ago(1))
    async with dealer.sessions.begin() as session:
        customer_id = await session.scalar(
            select(conversations.c.customer_id).where(conversations.c.id == conversation)
        )
        await session.execute(
            update(customers).where(customers.c.id == customer_id).values(first_name="Ann", last_name="Lee")
        )
        dealership = await session.scalar(select(accounts.c.name).where(accounts.c.id == dealer.account_id))
    draft = (
        "Hi {{ customer.first_name }}, {{ sender.first_name }} at {{ dealership.name }}: "
        "{{ appointment.time }}"
    )

    # For nobody in particular: what has no value shows as its name and is listed.
    answer = await client.post(f"{URL}/preview", headers=dealer.sam, json={"body": draft})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "text": f"Hi [customer.first_name], Sam at {dealership}: [appointment.time]",
        "placeholders": ["customer.first_name", "sender.first_name", "dealership.name", "appointment.time"],
        "missing": ["customer.first_name", "appointment.time"],
    }
    # `default` keeps its word; a customer and variables fill the rest.
    answer = await client.post(
        f"{URL}/preview",
        headers=dealer.sam,
        json={"body": "Hi {{ customer.first_name | default('there') }}!"},
    )
    assert answer.json()["text"] == "Hi there!" and answer.json()["missing"] == []
    answer = await client.post(
        f"{URL}/preview",
        headers=dealer.sam,
        json={"body": draft, "customer_id": str(customer_id), "variables": {"appointment.time": "9:30"}},
    )
    assert answer.json()["text"] == f"Hi Ann, Sam at {dealership}: 9:30"
    assert answer.json()["missing"] == []

    # What saving would refuse is refused with the same clear message; nothing was saved.
    refused = await client.post(f"{URL}/preview", headers=dealer.sam, json={"body": "Hi {{ customer.age }}"})
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "invalid_template"
    assert "unknown placeholder 'customer.age'" in refused.json()["error"]["message"]
    broken = await client.post(f"{URL}/preview", headers=dealer.sam, json={"body": "Hi {{ customer."})
    assert broken.status_code == 422 and broken.json()["error"]["code"] == "invalid_template"

    # Another dealership's customer answers like one that does not exist.
    foreign = await client.post(
        f"{URL}/preview", headers=other_dealer.sam, json={"body": draft, "customer_id": str(customer_id)}
    )
    assert foreign.status_code == 404
    unknown = await client.post(
        f"{URL}/preview", headers=dealer.sam, json={"body": draft, "customer_id": str(uuid4())}
    )
    assert unknown.status_code == 404
