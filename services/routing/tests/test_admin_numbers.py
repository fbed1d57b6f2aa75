"""The dealership's numbers through the admin API: any human format stored in E.164, one number
for one account in the whole system, without saying whose it is."""

import json
import secrets
import uuid

import pytest
from sqlalchemy import select

from routing.tables import account_phone_numbers, outbox


def fresh_number() -> tuple[str, str]:
    """(as a person writes it, E.164)."""
    area, line = f"{secrets.randbelow(900) + 100}", f"{secrets.randbelow(10**4):04d}"
    return f"(438) {area}-{line}", f"+1438{area}{line}"


async def number_changes(dealer, e164: str) -> list[dict]:
    async with dealer.sessions() as session:
        payloads = await session.scalars(
            select(outbox.c.payload)
            .where(outbox.c.topic == "phone_number.changed.v1", outbox.c.key == e164)
            .order_by(outbox.c.id)
        )
        return [json.loads(bytes(payload)) for payload in payloads]


async def test_adding_and_removing_a_number_is_announced_for_ingest(client, dealer):
    """ingest finds a Telnyx webhook's account by the number: it learns of each number from
    phone_number.changed.v1, or webhooks to a number added here would be refused."""
    written, e164 = fresh_number()
    response = await client.post(
        "/api/v1/phone-numbers", headers=dealer.admin, json={"number": written, "carrier": "telnyx"}
    )
    assert response.status_code == 201, response.text
    refused = await client.post(
        "/api/v1/phone-numbers", headers=dealer.admin, json={"number": e164, "carrier": "telnyx"}
    )
    assert refused.status_code == 409
    deleted = await client.delete(f"/api/v1/phone-numbers/{response.json()['id']}", headers=dealer.admin)
    assert deleted.status_code == 204
    changes = await number_changes(dealer, e164)
    assert [(c["change"], c["e164"], c["carrier"], c["account_id"]) for c in changes] == [
        ("added", e164, "telnyx", str(dealer.account_id)),
        ("removed", e164, "telnyx", str(dealer.account_id)),
    ]


async def test_an_admin_adds_lists_and_removes_numbers(client, dealer):
    written, e164 = fresh_number()
    response = await client.post(
        "/api/v1/phone-numbers",
        headers=dealer.admin,
        json={"number": written, "carrier": "telnyx", "kind": "toll_free"},
    )
    assert response.status_code == 201, response.text
    added = response.json()
    assert (added["e164"], added["carrier"], added["kind"]) == (e164, "telnyx", "toll_free")

    listed = (await client.get("/api/v1/phone-numbers", headers=dealer.admin)).json()
    assert {n["e164"] for n in listed} == {dealer.number, e164}

    assert (
        await client.delete(f"/api/v1/phone-numbers/{added['id']}", headers=dealer.admin)
    ).status_code == 204
    listed = (await client.get("/api/v1/phone-numbers", headers=dealer.admin)).json()
    assert [n["e164"] for n in listed] == [dealer.number]
    assert (
        await client.delete(f"/api/v1/phone-numbers/{added['id']}", headers=dealer.admin)
    ).status_code == 404


async def test_a_number_belongs_to_one_account_in_the_whole_system(client, dealer, other_dealer):
    written, e164 = fresh_number()
    body = {"number": written, "carrier": "twilio"}
    assert (await client.post("/api/v1/phone-numbers", headers=dealer.admin, json=body)).status_code == 201
    for headers, number in (
        (dealer.admin, e164),
        (other_dealer.admin, written),
        (other_dealer.admin, e164.replace("+1", "1-")),
        (other_dealer.admin, dealer.number),
    ):
        response = await client.post(
            "/api/v1/phone-numbers", headers=headers, json={"number": number, "carrier": "twilio"}
        )
        assert response.status_code == 409, response.text
        assert response.json()["error"]["code"] == "number_taken"
        assert str(dealer.account_id) not in response.text and "Dealer" not in response.text
    theirs = (await client.get("/api/v1/phone-numbers", headers=other_dealer.admin)).json()
    assert [n["e164"] for n in theirs] == [other_dealer.number]


@pytest.mark.parametrize(
    "body",
    [
        {"number": "12", "carrier": "twilio"},
        {"number": "call me maybe", "carrier": "twilio"},
        {"number": "(438) 555-0101", "carrier": "bandwidth"},
        {"number": "(438) 555-0101", "carrier": "twilio", "kind": "short_code"},
        {"number": "", "carrier": "twilio"},
    ],
)
async def test_an_invalid_number_is_refused(client, dealer, body):
    response = await client.post("/api/v1/phone-numbers", headers=dealer.admin, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] in {"invalid_phone_number", "invalid_request"}


async def test_numbers_are_for_admins_only(client, dealer):
    written, _ = fresh_number()
    own = (await client.get("/api/v1/phone-numbers", headers=dealer.admin)).json()[0]["id"]
    for method, path, body in (
        ("GET", "/api/v1/phone-numbers", None),
        ("POST", "/api/v1/phone-numbers", {"number": written, "carrier": "twilio"}),
        ("DELETE", f"/api/v1/phone-numbers/{own}", None),
    ):
        response = await client.request(method, path, headers=dealer.sam, json=body)
        assert response.status_code == 403, (method, response.text)
    assert len((await client.get("/api/v1/phone-numbers", headers=dealer.admin)).json()) == 1


async def test_another_accounts_number_is_not_found(client, dealer, other_dealer):
    async with dealer.sessions() as session:
        ours = await session.scalar(
            select(account_phone_numbers.c.id).where(account_phone_numbers.c.account_id == dealer.account_id)
        )
    for number_id in (ours, uuid.uuid4()):
        response = await client.delete(f"/api/v1/phone-numbers/{number_id}", headers=other_dealer.admin)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    async with dealer.sessions() as session:
        still = await session.scalar(
            select(account_phone_numbers.c.e164).where(account_phone_numbers.c.id == ours)
        )
    assert still == dealer.number
