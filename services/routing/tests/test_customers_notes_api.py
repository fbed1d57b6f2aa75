"""Internal notes on a customer's profile: staff only, newest first, paginated, with the author."""

from sqlalchemy import select

from routing.tables import messages, outbox

API = "/api/v1/customers"


async def new_customer(client, dealer) -> str:
    response = await client.post(API, headers=dealer.sam, json={"first_name": "Jo"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def test_a_note_records_its_author(client, dealer):
    customer_id = await new_customer(client, dealer)
    response = await client.post(
        f"{API}/{customer_id}/notes",
        headers=dealer.sam,
        json={"body": "  No cell phone anymore, call the landline. "},
    )
    assert response.status_code == 201, response.text
    note = response.json()
    assert note["body"] == "No cell phone anymore, call the landline."
    assert (note["author_user_id"], note["author_name"]) == (str(dealer.sam_id), "Sam Agent")
    assert note["customer_id"] == customer_id


async def test_notes_list_newest_first_in_pages(client, dealer):
    customer_id = await new_customer(client, dealer)
    for index in range(5):
        posted = await client.post(
            f"{API}/{customer_id}/notes", headers=dealer.admin, json={"body": f"note {index}"}
        )
        assert posted.status_code == 201
    bodies, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await client.get(f"{API}/{customer_id}/notes", headers=dealer.sam, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= 2
        bodies += [item["body"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert bodies == ["note 4", "note 3", "note 2", "note 1", "note 0"]


async def test_an_empty_or_too_long_note_is_422(client, dealer):
    customer_id = await new_customer(client, dealer)
    for body in ("", "   ", "x" * 5001):
        response = await client.post(f"{API}/{customer_id}/notes", headers=dealer.sam, json={"body": body})
        assert response.status_code == 422, body
    assert (
        await client.post(f"{API}/{customer_id}/notes", headers=dealer.sam, json={"body": "x" * 5000})
    ).status_code == 201


async def test_a_note_never_reaches_the_customer(client, dealer):
    customer_id = await new_customer(client, dealer)
    async with dealer.sessions() as session:
        outbox_before = await session.scalar(select(outbox.c.id).order_by(outbox.c.id.desc()).limit(1))
    await client.post(f"{API}/{customer_id}/notes", headers=dealer.sam, json={"body": "internal only"})
    async with dealer.sessions() as session:
        texted = await session.scalar(select(messages.c.id).where(messages.c.body == "internal only"))
        outbox_after = await session.scalar(select(outbox.c.id).order_by(outbox.c.id.desc()).limit(1))
    assert texted is None
    assert outbox_after == outbox_before


async def test_notes_of_an_unknown_customer_are_404(client, dealer):
    missing = "00000000-0000-4000-8000-000000000000"
    assert (await client.get(f"{API}/{missing}/notes", headers=dealer.sam)).status_code == 404
    response = await client.post(f"{API}/{missing}/notes", headers=dealer.sam, json={"body": "hello"})
    assert response.status_code == 404
