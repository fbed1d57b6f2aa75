"""Profile merges, as the help article describes them: when the DMS gives its customer B the
mobile number of profile A (someone who texted in, or a profile staff created), B survives with
the number and its active conversation, A's conversation becomes an archived conversation of B,
the merge shows in both timelines, nothing is deleted, assignments and unread state survive; and
the result is the same whatever the order of the events and however often they are replayed."""

import json
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy import func, select

from routing.tables import conversations, customer_phones, customers, outbox, read_marks, timeline_events

from .dms_helpers import apply, customer_event, dms_id, new_number


def at(minutes: int) -> str:
    """A claiming event's occurred_at, minutes after a fixed moment."""
    return (datetime(2026, 11, 25, 9, 0, tzinfo=UTC) + timedelta(minutes=minutes)).isoformat()


async def _customer(sessions, customer_id: UUID):
    async with sessions() as session:
        return (await session.execute(select(customers).where(customers.c.id == customer_id))).one()


async def _dms_customer_id(sessions, account_id, dms_customer_id: str) -> UUID:
    async with sessions() as session:
        return await session.scalar(
            select(customers.c.id).where(
                customers.c.account_id == account_id, customers.c.dms_customer_id == dms_customer_id
            )
        )


async def _holder(sessions, account_id, e164: str) -> UUID | None:
    async with sessions() as session:
        return await session.scalar(
            select(customer_phones.c.customer_id).where(
                customer_phones.c.account_id == account_id, customer_phones.c.e164 == e164
            )
        )


async def _conversation(sessions, conversation_id: UUID):
    async with sessions() as session:
        return (
            await session.execute(select(conversations).where(conversations.c.id == conversation_id))
        ).one()


async def _customer_of(sessions, conversation_id: UUID) -> UUID:
    return (await _conversation(sessions, conversation_id)).customer_id


async def _outbox(sessions, topic: str, key: str) -> list[dict]:
    async with sessions() as session:
        rows = await session.scalars(
            select(outbox.c.payload).where(outbox.c.topic == topic, outbox.c.key == key).order_by(outbox.c.id)
        )
        return [json.loads(bytes(row)) for row in rows]


async def _timeline_kinds(client, headers, conversation_id: UUID) -> list[str]:
    response = await client.get(f"/api/v1/conversations/{conversation_id}/timeline", headers=headers)
    assert response.status_code == 200, response.text
    return [item["kind"] for item in response.json()["items"]]


async def _state(sessions, account_id) -> dict:
    """Everything a merge can change in an account, for comparing two runs."""
    async with sessions() as session:
        profiles = (
            await session.execute(
                select(customers.c.id, customers.c.merged_into_customer_id, customers.c.first_name).where(
                    customers.c.account_id == account_id
                )
            )
        ).all()
        phones = (
            await session.execute(
                select(customer_phones.c.e164, customer_phones.c.customer_id, customer_phones.c.kind).where(
                    customer_phones.c.account_id == account_id
                )
            )
        ).all()
        convs = (
            await session.execute(
                select(
                    conversations.c.id,
                    conversations.c.customer_id,
                    conversations.c.status,
                    conversations.c.merged_from_customer_id,
                    conversations.c.assignee_user_id,
                ).where(conversations.c.account_id == account_id)
            )
        ).all()
        events = await session.scalar(
            select(func.count())
            .select_from(timeline_events)
            .where(timeline_events.c.account_id == account_id)
        )
    return {
        "profiles": sorted(map(tuple, profiles), key=str),
        "phones": sorted(map(tuple, phones), key=str),
        "conversations": sorted(map(tuple, convs), key=str),
        "timeline_events": events,
    }


async def test_the_articles_case_b_keeps_the_number_and_a_s_conversation_is_archived(
    client, dealer, sessions, ago
):
    kim = dealer.headers(dealer.kim_id)
    a_number, b_number, b_dms = new_number(), new_number(), dms_id()
    # A texted in from 555 and is assigned to Kim, who has not read it yet.
    a_conversation = await dealer.receive(ago(3), "my brakes squeak", customer_number=a_number)
    await dealer.set_assignee(a_conversation, user_id=dealer.kim_id)
    a_id = await _customer_of(sessions, a_conversation)
    # B comes from the DMS with 444, texts from it, and Kim reads that one.
    await apply(sessions, customer_event(dealer.account_id, b_dms, 1, [(b_number, "mobile")], "Bea", "Roy"))
    b_conversation = await dealer.receive(ago(2), "see you tomorrow", customer_number=b_number)
    b_id = await _dms_customer_id(sessions, dealer.account_id, b_dms)
    assert await _customer_of(sessions, b_conversation) == b_id
    await dealer.set_assignee(b_conversation, user_id=dealer.kim_id)
    assert (await client.post(f"/api/v1/conversations/{b_conversation}/read", headers=kim)).status_code == 200

    # The DMS changes B's mobile to 555.
    await apply(sessions, customer_event(dealer.account_id, b_dms, 2, [(a_number, "mobile")], "Bea", "Roy"))

    assert await _holder(sessions, dealer.account_id, a_number) == b_id
    assert await _holder(sessions, dealer.account_id, b_number) is None  # no longer in the DMS record
    merged_away = await _customer(sessions, a_id)  # still there, pointing at B
    assert merged_away.merged_into_customer_id == b_id
    archived = await _conversation(sessions, a_conversation)
    assert (archived.status, archived.customer_id, archived.merged_from_customer_id) == (
        "archived",
        b_id,
        a_id,
    )
    assert archived.assignee_user_id == dealer.kim_id
    active = await _conversation(sessions, b_conversation)
    assert (active.status, active.customer_id) == ("open", b_id)

    # The profile shows both; the archived conversation is readable, with the merge in both timelines.
    profile = (await client.get(f"/api/v1/customers/{b_id}", headers=dealer.admin)).json()
    assert profile["active_conversation_id"] == str(b_conversation)
    assert profile["archived_conversation_ids"] == [str(a_conversation)]
    archived_timeline = await _timeline_kinds(client, dealer.admin, a_conversation)
    assert archived_timeline[0] == "message" and {"merged", "archived"} <= set(archived_timeline)
    assert "merged" in await _timeline_kinds(client, dealer.admin, b_conversation)
    # Unread state and assignee survive: still unread for Kim, still hers; B's stays read.
    seen_a = (await client.get(f"/api/v1/conversations/{a_conversation}", headers=kim)).json()
    assert (seen_a["status"], seen_a["read"], seen_a["assignee_user_id"]) == (
        "archived",
        False,
        str(dealer.kim_id),
    )
    assert (await client.get(f"/api/v1/conversations/{b_conversation}", headers=kim)).json()["read"] is True
    async with sessions() as session:
        marks = await session.scalar(
            select(func.count()).select_from(read_marks).where(read_marks.c.conversation_id == b_conversation)
        )
    assert marks == 1

    # Announced: the merge, and both profiles as they are now.
    (merge_event,) = await _outbox(sessions, "conversation.merged.v1", str(b_id))
    assert merge_event["archived_conversation_id"] == str(a_conversation)
    assert merge_event["surviving_conversation_id"] == str(b_conversation)
    assert merge_event["moved_conversation_ids"] == [str(a_conversation)]
    assert (merge_event["merged_customer_id"], merge_event["phone_e164"]) == (str(a_id), a_number)
    assert (await _outbox(sessions, "customer.changed.v1", str(a_id)))[-1]["merged_into_customer_id"] == str(
        b_id
    )
    b_now = (await _outbox(sessions, "customer.changed.v1", str(b_id)))[-1]
    assert b_now["phones"] == [{"e164": a_number, "kind": "mobile"}]

    # A stays readable by id, says where it went, and no longer shows up in customer search.
    a_profile = (await client.get(f"/api/v1/customers/{a_id}", headers=dealer.admin)).json()
    assert (a_profile["merged_into_customer_id"], a_profile["phones"]) == (str(b_id), [])
    search = await client.get("/api/v1/customers", params={"q": a_number}, headers=dealer.admin)
    assert [item["id"] for item in search.json()["items"]] == [str(b_id)]

    # The next text from 555 lands in B's active conversation, not in the archived one.
    assert await dealer.receive(ago(0), "hello again", customer_number=a_number) == b_conversation


async def test_when_the_survivor_has_no_conversation_the_other_becomes_its_active_one(
    client, dealer, sessions, ago
):
    number, b_dms = new_number(), dms_id()
    a_conversation = await dealer.receive(ago(1), "hi", customer_number=number)
    a_id = await _customer_of(sessions, a_conversation)
    await apply(sessions, customer_event(dealer.account_id, b_dms, 1, [(number, "mobile")]))
    b_id = await _dms_customer_id(sessions, dealer.account_id, b_dms)

    moved = await _conversation(sessions, a_conversation)
    assert (moved.status, moved.customer_id, moved.merged_from_customer_id) == ("open", b_id, a_id)
    assert (await _customer(sessions, a_id)).merged_into_customer_id == b_id
    profile = (await client.get(f"/api/v1/customers/{b_id}", headers=dealer.admin)).json()
    assert (profile["active_conversation_id"], profile["archived_conversation_ids"]) == (
        str(a_conversation),
        [],
    )
    assert "merged" in await _timeline_kinds(client, dealer.admin, a_conversation)
    (merge_event,) = await _outbox(sessions, "conversation.merged.v1", str(b_id))
    assert merge_event["archived_conversation_id"] is None
    assert merge_event["surviving_conversation_id"] == str(a_conversation)


async def test_when_the_merged_profile_has_no_conversation_nothing_is_archived(client, dealer, sessions, ago):
    number, b_number, b_dms = new_number(), new_number(), dms_id()
    created = await client.post(
        "/api/v1/customers",
        json={"first_name": "Al", "phones": [{"number": number, "kind": "mobile"}]},
        headers=dealer.sam,
    )
    a_id = UUID(created.json()["id"])
    await client.post(
        f"/api/v1/customers/{a_id}/notes", json={"body": "prefers mornings"}, headers=dealer.sam
    )
    await apply(sessions, customer_event(dealer.account_id, b_dms, 1, [(b_number, "mobile")]))
    b_conversation = await dealer.receive(ago(1), "hi", customer_number=b_number)
    await apply(
        sessions, customer_event(dealer.account_id, b_dms, 2, [(number, "mobile"), (b_number, "mobile")])
    )
    b_id = await _dms_customer_id(sessions, dealer.account_id, b_dms)

    assert (await _customer(sessions, a_id)).merged_into_customer_id == b_id
    assert await _holder(sessions, dealer.account_id, number) == b_id
    assert (await _conversation(sessions, b_conversation)).status == "open"
    assert await _timeline_kinds(client, dealer.admin, b_conversation) == ["message", "merged"]
    notes = (await client.get(f"/api/v1/customers/{b_id}/notes", headers=dealer.sam)).json()["items"]
    assert [note["body"] for note in notes] == ["prefers mornings"]  # carried over, not lost


async def test_the_same_events_in_either_order_give_the_same_result(dealer, other_dealer, sessions, ago):
    async def run(account, order: list[int]) -> dict:
        number, old_number, b_dms = new_number(), new_number(), "C-same"
        await account.receive(ago(2), "hi", customer_number=number)
        events = [
            customer_event(account.account_id, b_dms, 1, [(old_number, "mobile")], "Old", "Name"),
            customer_event(account.account_id, b_dms, 2, [(number, "mobile")], "New", "Name"),
        ]
        for index in order:
            await apply(sessions, events[index])
        state = await _state(sessions, account.account_id)
        b_id = await _dms_customer_id(sessions, account.account_id, b_dms)
        a_id = next(p[0] for p in state["profiles"] if p[0] != b_id)
        # In account-neutral terms: who holds what, who merged into whom, what became of each conversation.
        label = {b_id: "B", a_id: "A", None: None}
        return {
            "profiles": sorted((label[p[0]], label[p[1]], p[2]) for p in state["profiles"]),
            "phones": sorted((p[0] == number, label[p[1]], p[2]) for p in state["phones"]),
            "conversations": sorted((label[c[1]], c[2], label[c[3]]) for c in state["conversations"]),
            "timeline_events": state["timeline_events"],
        }

    in_order = await run(dealer, [0, 1])
    reversed_order = await run(other_dealer, [1, 0])
    assert in_order == reversed_order
    assert in_order["profiles"] == [("A", "B", None), ("B", None, "New")]
    assert in_order["phones"] == [(True, "B", "mobile")]


async def test_replaying_every_event_twice_changes_nothing(client, dealer, sessions, ago):
    a_number, b_number, b_dms = new_number(), new_number(), dms_id()
    a_conversation = await dealer.receive(ago(3), "hi", customer_number=a_number)
    first = customer_event(dealer.account_id, b_dms, 1, [(b_number, "mobile")])
    await apply(sessions, first)
    await dealer.receive(ago(2), "hello", customer_number=b_number)
    second = customer_event(dealer.account_id, b_dms, 2, [(a_number, "mobile")])
    await apply(sessions, second)
    settled = await _state(sessions, dealer.account_id)
    async with sessions() as session:
        events_before = await session.scalar(select(func.count()).select_from(outbox))

    for _ in range(2):
        for event in (first, second):  # redelivered as they were
            assert not await apply(sessions, event)
        for event in (first, second):  # the same records sent again under new event ids
            again = customer_event(dealer.account_id, b_dms, event["record_version"], [(a_number, "mobile")])
            assert not await apply(sessions, again)

    assert await _state(sessions, dealer.account_id) == settled
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(outbox)) == events_before
    assert (await _conversation(sessions, a_conversation)).status == "archived"


async def test_a_shared_landline_does_not_merge_profiles(dealer, sessions, ago):
    number, b_dms = new_number(), dms_id()
    a_conversation = await dealer.receive(ago(1), "hi", customer_number=number)
    a_id = await _customer_of(sessions, a_conversation)
    await apply(sessions, customer_event(dealer.account_id, b_dms, 1, [(number, "landline")]))
    assert await _holder(sessions, dealer.account_id, number) == a_id
    assert (await _customer(sessions, a_id)).merged_into_customer_id is None
    assert (await _conversation(sessions, a_conversation)).status == "open"


async def test_two_dms_customers_never_merge_and_the_later_claim_gets_the_number(
    dealer, other_dealer, sessions
):
    """First's record counts versions into the thousands, second's is at 3: versions of two
    records say nothing about each other, so the claim made later (occurred_at) wins, in either
    order of arrival."""

    async def run(account, order: list[int]) -> tuple[str, str]:
        number, first_dms, second_dms = new_number(), dms_id(), dms_id()
        events = [
            customer_event(account.account_id, first_dms, 5000, [(number, "mobile")], occurred_at=at(0)),
            customer_event(account.account_id, second_dms, 3, [(number, "mobile")], occurred_at=at(5)),
        ]
        for index in order:
            await apply(sessions, events[index])
        first_id = await _dms_customer_id(sessions, account.account_id, first_dms)
        second_id = await _dms_customer_id(sessions, account.account_id, second_dms)
        assert (await _customer(sessions, first_id)).merged_into_customer_id is None
        assert (await _customer(sessions, second_id)).merged_into_customer_id is None
        label = {first_id: "first", second_id: "second"}
        before = label[await _holder(sessions, account.account_id, number)]
        # The first record lists the number again, later: its claim is the latest now.
        renewal = customer_event(
            account.account_id, first_dms, 5001, [(number, "mobile")], occurred_at=at(10)
        )
        await apply(sessions, renewal)
        return before, label[await _holder(sessions, account.account_id, number)]

    in_order = await run(dealer, [0, 1])
    reversed_order = await run(other_dealer, [1, 0])
    assert in_order == reversed_order == ("second", "first")


async def test_merges_never_cross_accounts(dealer, other_dealer, sessions, ago):
    number = new_number()
    theirs = await other_dealer.receive(ago(1), "hi", customer_number=number)
    await apply(sessions, customer_event(dealer.account_id, dms_id(), 1, [(number, "mobile")]))
    other_customer = await _customer_of(sessions, theirs)
    assert (await _customer(sessions, other_customer)).merged_into_customer_id is None
    assert await _holder(sessions, other_dealer.account_id, number) == other_customer
    assert (await _conversation(sessions, theirs)).status == "open"
