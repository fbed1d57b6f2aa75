"""A suspended dealership (issue 20, item 5), as routing enforces it: its staff cannot sign in
and their open sessions end; nothing is sent (staff, automatic answers, other systems'
requests), with a clear reason; what customers, carriers and the DMS send is still stored and
shows when it resumes. Nothing is deleted. The operator API (routing/platform) sets
`accounts.status`; these tests set it the same way."""

from uuid import UUID

import pytest
from sqlalchemy import func, select, update

from routing.messaging.usecases.errors import CannotSend
from routing.messaging.usecases.outreach import send_requested
from routing.messaging.usecases.send import Outgoing, reply
from routing.tables import accounts, customers, messages, users
from shared.contracts.messaging import MessageSource, SendRequested
from shared.http.auth import issue_token
from shared.kafka.consumer import PermanentError

from .access_helpers import invitation_event, invite, token_of
from .conftest import PASSWORD
from .dms_helpers import apply, customer_event, dms_id, new_number
from .test_outbound_status import carrier_says, notifier_says, record, sent_message, stored


async def set_status(dealer, status: str) -> None:
    async with dealer.sessions.begin() as session:
        await session.execute(
            update(accounts).where(accounts.c.id == dealer.account_id).values(status=status)
        )


async def email_of(client, dealer, user_id: UUID) -> str:
    return (await client.get(f"/api/v1/users/{user_id}", headers=dealer.admin)).json()["email"]


async def counts(dealer) -> tuple[int, int]:
    async with dealer.sessions() as session:
        texts = await session.scalar(
            select(func.count()).select_from(messages).where(messages.c.account_id == dealer.account_id)
        )
        staff = await session.scalar(
            select(func.count()).select_from(users).where(users.c.account_id == dealer.account_id)
        )
    return texts, staff


async def test_staff_of_a_suspended_dealership_cannot_sign_in_and_their_tokens_end(client, dealer, settings):
    email = await email_of(client, dealer, dealer.kim_id)
    await set_status(dealer, "suspended")

    refused = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "dealership_suspended")
    assert "suspended" in refused.json()["error"]["message"]
    # Only the right password learns that the dealership is suspended.
    wrong = await client.post("/api/v1/auth/login", json={"email": email, "password": "not the password"})
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, "invalid_credentials")

    for path in ("/api/v1/me", "/api/v1/conversations", "/api/v1/me/dealerships"):
        answer = await client.get(path, headers=dealer.headers(dealer.lou_id))
        assert (answer.status_code, answer.json()["error"]["code"]) == (401, "dealership_suspended"), path

    # What the other services ask routing about a token's user (shared/http/staff.py).
    service = {"authorization": f"Bearer {issue_token(settings, 'search', dealer.account_id, 'service')}"}
    kim = (await client.get(f"/api/v1/users/{dealer.kim_id}", headers=service)).json()
    assert kim["active"] is True and kim["account_suspended"] is True

    await set_status(dealer, "active")
    assert (
        await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    ).status_code == 200
    kim = (await client.get(f"/api/v1/users/{dealer.kim_id}", headers=service)).json()
    assert kim["account_suspended"] is False


async def test_nothing_is_sent_while_suspended_and_the_reason_is_plain(client, dealer, ago):
    conversation = await dealer.receive(ago(1), body="Is my car ready?")
    await set_status(dealer, "suspended")
    before = await counts(dealer)

    with pytest.raises(CannotSend) as refused:
        async with dealer.sessions.begin() as session:
            await reply(
                session, dealer.account_id, conversation, dealer.sam_id, Outgoing(body="Yes!"), ago(0)
            )
    assert refused.value.reason == "dealership_suspended"
    assert "suspended" in str(refused.value)

    request = SendRequested(
        account_id=dealer.account_id,
        request_id="automation-1",
        customer_phone=new_number(),
        body="Your appointment is tomorrow",
        source=MessageSource(kind="automation", id="a-1", name="Reminder"),
    )
    with pytest.raises(PermanentError, match="dealership_suspended"):
        async with dealer.sessions.begin() as session:
            await send_requested(session, request, "US", ago(0))

    # A customer asking HELP is stored, and not answered (the carrier answers HELP itself).
    await dealer.receive(ago(0), body="HELP")
    texts, staff = await counts(dealer)
    assert (texts, staff) == (before[0] + 1, before[1])


async def test_what_customers_carriers_and_the_dms_send_is_stored_and_shows_when_it_resumes(
    client, dealer, ago
):
    conversation, message_id = await sent_message(client, dealer, ago)
    assert await record(dealer, notifier_says(dealer, message_id, "sent", carrier_message_id="SMsusp1"))
    await set_status(dealer, "suspended")
    before = await counts(dealer)

    # An inbound text, the carrier's delivery report, the DMS's customer: all stored.
    new_conversation = await dealer.receive(ago(0), body="Any news on my car?")
    assert await record(dealer, carrier_says(dealer, "SMsusp1", "delivered"))
    assert (await stored(dealer, message_id)).status == "delivered"
    dms_customer = dms_id()
    assert await apply(
        dealer.sessions, customer_event(dealer.account_id, dms_customer, 1, [(new_number(), "mobile")])
    )
    assert (await counts(dealer))[0] == before[0] + 1

    await set_status(dealer, "active")
    listed = (await client.get("/api/v1/conversations", headers=dealer.admin)).json()["items"]
    assert {str(conversation), str(new_conversation)} <= {row["id"] for row in listed}
    async with dealer.sessions() as session:
        stored_customer = await session.scalar(
            select(customers.c.id).where(
                customers.c.account_id == dealer.account_id, customers.c.dms_customer_id == dms_customer
            )
        )
    assert stored_customer is not None
    assert (await counts(dealer))[1] == before[1]  # nobody was deleted


async def test_a_group_member_signs_in_to_the_dealership_that_is_not_suspended(client, dealer, other_dealer):
    sam_email = await email_of(client, other_dealer, other_dealer.sam_id)
    invitation = await invite(client, dealer.admin, email=sam_email, name="Sam Again")
    link = token_of((await invitation_event(dealer.sessions, invitation["id"])).link)
    accepted = await client.post("/api/v1/invitations/accept", json={"token": link, "password": PASSWORD})
    assert accepted.status_code == 200, accepted.text
    await set_status(dealer, "suspended")  # the one they last worked in

    signed_in = await client.post("/api/v1/auth/login", json={"email": sam_email, "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    body = signed_in.json()
    assert body["account_id"] == str(other_dealer.account_id)
    assert {d["account_id"]: d["suspended"] for d in body["dealerships"]} == {
        str(dealer.account_id): True,
        str(other_dealer.account_id): False,
    }
    refused = await client.post(
        "/api/v1/auth/switch",
        headers={"authorization": f"Bearer {body['access_token']}"},
        json={"account_id": str(dealer.account_id)},
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "dealership_suspended")
