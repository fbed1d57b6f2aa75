"""The composer: open with the numbers a text would use, or blocked with the reason staff read."""

import secrets
from datetime import UTC, datetime
from uuid import uuid4

from sqlalchemy import delete, select, update

from routing.domain.composer import composer_state
from routing.domain.reachability import Phone
from routing.tables import account_phone_numbers, conversations, customer_phones, opt_outs

DEALER = "+15145550100"
MOBILE = Phone("+33612345678", "mobile")
UNKNOWN = Phone("+14385550123", "unknown")
LANDLINE = Phone("+33142685300", "landline")


# --- the rule ---------------------------------------------------------------------------------


def test_a_mobile_is_texted_before_a_number_of_unknown_kind():
    state = composer_state("open", [UNKNOWN, MOBILE], set(), DEALER)
    assert (state.can_send, state.to_number, state.from_number) == (True, MOBILE.e164, DEALER)
    assert state.reason is None and state.message is None


def test_north_american_numbers_of_unknown_kind_can_be_texted():
    state = composer_state("closed", [UNKNOWN, LANDLINE], set(), DEALER)
    assert (state.can_send, state.to_number) == (True, UNKNOWN.e164)


def test_the_number_the_customer_wrote_from_is_preferred():
    state = composer_state("open", [MOBILE, UNKNOWN], set(), DEALER, preferred_e164=UNKNOWN.e164)
    assert state.to_number == UNKNOWN.e164


def test_each_blocked_reason_comes_with_plain_words():
    cases = {
        "no_mobile_number": composer_state("open", [], set(), DEALER),
        "landline": composer_state("open", [LANDLINE], set(), DEALER),
        "opted_out": composer_state("open", [MOBILE, LANDLINE], {MOBILE.e164}, DEALER),
        "archived": composer_state("archived", [MOBILE], set(), DEALER),
        "no_dealership_number": composer_state("open", [MOBILE], set(), None),
    }
    for reason, state in cases.items():
        assert (state.can_send, state.reason, state.to_number) == (False, reason, None)
        assert state.message and state.message[0].isupper()
    assert "landline" in cases["landline"].message
    assert "STOP" in cases["opted_out"].message


# --- through the API --------------------------------------------------------------------------


async def _composer(client, dealer, conversation) -> dict:
    response = await client.get(f"/api/v1/conversations/{conversation}/composer", headers=dealer.sam)
    assert response.status_code == 200, response.text
    return response.json()


async def _customer_number(dealer, conversation) -> str:
    async with dealer.sessions() as session:
        customer_id = await session.scalar(
            select(conversations.c.customer_id).where(conversations.c.id == conversation)
        )
        return await session.scalar(
            select(customer_phones.c.e164).where(customer_phones.c.customer_id == customer_id)
        )


async def test_a_customer_who_texted_in_can_be_answered_from_the_number_they_wrote_to(client, dealer, ago):
    conversation = await dealer.receive(ago(1))
    state = await _composer(client, dealer, conversation)
    assert state == {
        "can_send": True,
        "reason": None,
        "message": None,
        "to_number": await _customer_number(dealer, conversation),
        "from_number": dealer.number,
    }


async def test_a_landline_blocks_the_composer(client, dealer, ago):
    conversation = await dealer.receive(ago(1))
    number = await _customer_number(dealer, conversation)
    async with dealer.sessions.begin() as session:
        await session.execute(
            update(customer_phones).where(customer_phones.c.e164 == number).values(kind="landline")
        )
    state = await _composer(client, dealer, conversation)
    assert (state["can_send"], state["reason"], state["from_number"]) == (False, "landline", dealer.number)
    assert "landline" in state["message"]


async def test_an_opt_out_blocks_only_for_the_dealership_number_it_was_sent_to(client, dealer, ago):
    conversation = await dealer.receive(ago(1))
    number = await _customer_number(dealer, conversation)
    async with dealer.sessions.begin() as session:
        await session.execute(
            opt_outs.insert().values(
                account_id=dealer.account_id,
                customer_e164=number,
                dealership_e164="+15145550999",
                keyword="STOP",
                opted_out_at=datetime.now(UTC),
            )
        )
    assert (await _composer(client, dealer, conversation))["can_send"] is True

    async with dealer.sessions.begin() as session:
        await session.execute(
            opt_outs.insert().values(
                account_id=dealer.account_id,
                customer_e164=number,
                dealership_e164=dealer.number,
                keyword="STOP",
                opted_out_at=datetime.now(UTC),
            )
        )
    state = await _composer(client, dealer, conversation)
    assert (state["can_send"], state["reason"]) == (False, "opted_out")


async def test_no_number_and_archived(client, dealer, ago):
    conversation = await dealer.receive(ago(1))
    async with dealer.sessions.begin() as session:
        customer_id = await session.scalar(
            select(conversations.c.customer_id).where(conversations.c.id == conversation)
        )
        await session.execute(delete(customer_phones).where(customer_phones.c.customer_id == customer_id))
    assert (await _composer(client, dealer, conversation))["reason"] == "no_mobile_number"

    async with dealer.sessions.begin() as session:
        await session.execute(
            update(conversations).where(conversations.c.id == conversation).values(status="archived")
        )
    assert (await _composer(client, dealer, conversation))["reason"] == "archived"


async def test_another_accounts_conversation_is_not_found(client, dealer, other_dealer, ago):
    theirs = await other_dealer.receive(ago(1))
    for conversation in (theirs, uuid4()):
        response = await client.get(f"/api/v1/conversations/{conversation}/composer", headers=dealer.sam)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


async def test_replies_leave_from_the_number_written_to_while_the_account_has_it(client, dealer, ago):
    conversation = await dealer.receive(ago(1))
    second = f"+1514{secrets.randbelow(10**7):07d}"
    async with dealer.sessions.begin() as session:
        await session.execute(
            account_phone_numbers.insert().values(
                id=uuid4(), account_id=dealer.account_id, e164=second, carrier="twilio"
            )
        )
        await session.execute(
            update(conversations).where(conversations.c.id == conversation).values(dealership_e164=second)
        )
    assert (await _composer(client, dealer, conversation))["from_number"] == second

    # A number the account no longer has: the account's first number instead.
    async with dealer.sessions.begin() as session:
        await session.execute(
            update(conversations)
            .where(conversations.c.id == conversation)
            .values(dealership_e164="+15149990000")
        )
    assert (await _composer(client, dealer, conversation))["from_number"] == dealer.number
