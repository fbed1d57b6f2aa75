"""The inbox counters (migration 0014c, conversations/counts.py and counters.py) always equal a
full recount of the account's conversations: after every step of a random sequence of what
staff, customers, the DMS and the sweeper do, after settling, and with writers and settlers
running at the same time. Real PostgreSQL, the real use cases and routes."""

import asyncio
import random
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from sqlalchemy import func, insert, select, update

from routing.conversations.counters import CounterSettler, settle_counters
from routing.conversations.counts import counted_groups, recount_groups, tally_counts
from routing.conversations.usecases.auto_close import close_due_batch
from routing.domain.inbox import InboxFilter, View, Viewer
from routing.tables import accounts, conversation_counters, conversations, customer_phones, customers

from .dms_helpers import apply, customer_event, dms_id


def _as_counts(groups) -> dict[tuple, int]:
    """Groups as {key: n}, without empty groups, so that two lists compare whatever their order
    and however many ledger rows made them."""
    found: dict[tuple, int] = {}
    for g in groups:
        key = (g.status, g.user_id, g.team_id, g.is_read, g.is_unanswered)
        found[key] = found.get(key, 0) + g.n
    return {key: n for key, n in found.items() if n}


async def _assert_counters_match(dealer, step: str = "") -> dict[tuple, int]:
    async with dealer.sessions() as session:
        counted = _as_counts(await counted_groups(session, dealer.account_id))
        recounted = _as_counts(await recount_groups(session, dealer.account_id))
    assert counted == recounted, f"after {step}: counters {counted} != recount {recounted}"
    return counted


async def _ledger_rows(dealer, settled: bool | None = None) -> int:
    query = select(func.count()).where(conversation_counters.c.account_id == dealer.account_id)
    if settled is not None:
        query = query.where(conversation_counters.c.settled.is_(settled))
    async with dealer.sessions() as session:
        return await session.scalar(query)


async def _customer_number(dealer, conversation_id: UUID) -> str | None:
    async with dealer.sessions() as session:
        return await session.scalar(
            select(func.min(customer_phones.c.e164))
            .join(conversations, conversations.c.customer_id == customer_phones.c.customer_id)
            .where(conversations.c.id == conversation_id)
        )


async def _account_conversations(dealer) -> list[UUID]:
    async with dealer.sessions() as session:
        return list(
            await session.scalars(
                select(conversations.c.id)
                .where(conversations.c.account_id == dealer.account_id)
                .order_by(conversations.c.created_at, conversations.c.id)
            )
        )


async def test_counters_equal_a_recount_after_every_step_of_a_random_sequence(client, dealer):
    rng = random.Random(1913)  # a fixed seed: a failure replays the same sequence
    now = datetime.now(UTC) - timedelta(days=40)
    staff = [dealer.admin_id, dealer.sam_id, dealer.kim_id, dealer.lou_id]
    numbers: list[str] = []
    seen: set[str] = set()

    async def inbound() -> None:
        nonlocal now
        now += timedelta(minutes=rng.randint(1, 90))
        again = numbers and rng.random() < 0.5  # an existing customer texts again (reopens)
        number = rng.choice(numbers) if again else f"+1438{rng.randrange(10**7):07d}"
        await dealer.receive(now, body="hi", customer_number=number)
        if number not in numbers:
            numbers.append(number)

    async def reply(ids: list[UUID]) -> None:
        response = await client.post(
            f"/api/v1/conversations/{rng.choice(ids)}/messages",
            headers=dealer.headers(rng.choice(staff)),
            json={"body": "On it"},
        )
        # Refused for an archived conversation or a customer that cannot be texted: counted as is.
        assert response.status_code in (201, 409, 422), response.text

    def assignee() -> dict:
        if rng.random() < 0.3:
            return {"team_id": str(dealer.team_id)}
        return {"user_id": str(rng.choice(staff))}

    async def assign(ids: list[UUID]) -> None:
        chosen = rng.sample(ids, k=min(len(ids), rng.randint(1, 4)))
        body = {"conversation_ids": [str(i) for i in chosen], "assignee": assignee()}
        response = await client.post("/api/v1/conversations/assign", headers=dealer.admin, json=body)
        assert response.status_code in (200, 409), response.text

    async def assign_all_matching(ids: list[UUID]) -> None:
        view = rng.choice(["unassigned", "all", f"user:{rng.choice(staff)}"])
        body = {"filter": {"view": view, "status": rng.choice(["open", "all"])}, "assignee": assignee()}
        response = await client.post("/api/v1/conversations/assign", headers=dealer.admin, json=body)
        assert response.status_code in (200, 409), response.text

    async def close_or_reopen(ids: list[UUID]) -> None:
        action = rng.choice(["close", "reopen"])
        if rng.random() < 0.5:
            url, body = f"/api/v1/conversations/{rng.choice(ids)}/{action}", None
        else:
            url = f"/api/v1/conversations/{action}"
            body = {"conversation_ids": [str(i) for i in rng.sample(ids, k=min(len(ids), 3))]}
            if rng.random() < 0.3:
                body = {"filter": {"view": "all", "status": "all"}}
        response = await client.post(url, headers=dealer.headers(rng.choice(staff)), json=body)
        assert response.status_code in (200, 409), response.text

    async def read_or_unread(ids: list[UUID]) -> None:
        action = rng.choice(["read", "unread"])
        response = await client.post(
            f"/api/v1/conversations/{rng.choice(ids)}/{action}", headers=dealer.headers(rng.choice(staff))
        )
        assert response.status_code == 200, response.text

    async def auto_close(ids: list[UUID]) -> None:
        async with dealer.sessions.begin() as session:
            await session.execute(
                update(accounts).where(accounts.c.id == dealer.account_id).values(auto_close_after_days=1)
            )
        async with dealer.sessions.begin() as session:
            await close_due_batch(session, now + timedelta(days=rng.randint(1, 3)), 500)
        async with dealer.sessions.begin() as session:
            await session.execute(
                update(accounts).where(accounts.c.id == dealer.account_id).values(auto_close_after_days=None)
            )

    async def merge(ids: list[UUID]) -> None:
        """The DMS gives one profile the number of another customer with a conversation: the
        profiles merge and one conversation is archived."""
        first, second = rng.sample(ids, k=2)
        a_number, b_number = await _customer_number(dealer, first), await _customer_number(dealer, second)
        if not a_number or not b_number:
            return
        record = dms_id()
        await apply(dealer.sessions, customer_event(dealer.account_id, record, 1, [(b_number, "mobile")]))
        await apply(dealer.sessions, customer_event(dealer.account_id, record, 2, [(a_number, "mobile")]))

    async def team_changes(ids: list[UUID]) -> None:
        """Who is in the team decides whether a team's conversation is read."""
        members = rng.sample([dealer.sam_id, dealer.kim_id, dealer.lou_id], k=rng.randint(0, 3))
        response = await client.put(
            f"/api/v1/teams/{dealer.team_id}/members",
            headers=dealer.admin,
            json={"user_ids": [str(m) for m in members]},
        )
        assert response.status_code == 200, response.text

    async def by_hand(ids: list[UUID]) -> None:
        """Any statement on conversations counts, not only the use cases': a plain UPDATE."""
        async with dealer.sessions.begin() as session:
            await session.execute(
                update(conversations)
                .where(conversations.c.id.in_(rng.sample(ids, k=min(len(ids), 5))))
                .values(last_outbound_at=now)
            )

    async def settle(ids: list[UUID]) -> None:
        async with dealer.sessions.begin() as session:
            await settle_counters(session)

    steps = [reply, assign, assign_all_matching, close_or_reopen, read_or_unread]
    steps += [auto_close, merge, team_changes, by_hand, settle]
    for _ in range(6):
        await inbound()
    await _assert_counters_match(dealer, "the first texts")
    done: list[str] = []
    for number in range(160):
        ids = await _account_conversations(dealer)
        step = inbound if rng.random() < 0.25 else rng.choice(steps)
        await (step() if step is inbound else step(ids))
        done.append(step.__name__)
        await _assert_counters_match(dealer, f"step {number} ({step.__name__}); steps so far: {done}")
        seen.add(step.__name__)

    assert seen >= {s.__name__ for s in steps} | {"inbound"}
    counted = await _assert_counters_match(dealer, "the whole sequence")
    statuses = {key[0] for key in counted}
    assert {"open", "closed", "archived"} <= statuses, statuses  # every path was taken
    assert any(key[1] for key in counted) and any(key[2] for key in counted)
    assert {True, False} == {key[3] for key in counted} == {key[4] for key in counted}

    # Settled, the ledger is one row per group, and the API's numbers are the recount's.
    async with dealer.sessions.begin() as session:
        await settle_counters(session)
    assert await _ledger_rows(dealer) == len(counted) == await _ledger_rows(dealer, settled=True)
    viewer = Viewer(dealer.account_id, dealer.sam_id, False, frozenset({dealer.team_id}))
    async with dealer.sessions() as session:
        recounted = await recount_groups(session, dealer.account_id)
    for view in ("mine", "all", "unassigned", f"team:{dealer.team_id}", f"user:{dealer.kim_id}"):
        for status in ("open", "closed", "all"):
            for read in ([], ["unread"], ["read", "unanswered"]):
                response = await client.get(
                    "/api/v1/conversations/counts",
                    headers=dealer.sam,
                    params={"view": view, "status": status, "read": read},
                )
                assert response.status_code == 200, response.text
                expected = tally_counts(
                    recounted, viewer, InboxFilter(View.parse(view), status, frozenset(read))
                )
                assert response.json() == expected, (view, status, read)


async def test_inserting_and_deleting_a_conversation_by_hand_counts(dealer):
    """INSERT and DELETE, which no use case does today, keep the counters right too."""
    conversation = await dealer.receive(datetime.now(UTC))
    async with dealer.sessions() as session:
        customer_id = await session.scalar(
            select(conversations.c.customer_id).where(conversations.c.id == conversation)
        )
    new_customer, new_conversation = uuid4(), uuid4()
    async with dealer.sessions.begin() as session:
        await session.execute(insert(customers).values(id=new_customer, account_id=dealer.account_id))
        await session.execute(
            insert(conversations).values(
                id=new_conversation,
                account_id=dealer.account_id,
                customer_id=new_customer,
                status="open",
                assignee_user_id=dealer.kim_id,
                last_inbound_at=datetime.now(UTC),
            )
        )
    before = await _assert_counters_match(dealer, "an insert")
    assert before[("open", dealer.kim_id, None, False, True)] == 1
    async with dealer.sessions.begin() as session:
        await session.execute(conversations.delete().where(conversations.c.id == new_conversation))
    after = await _assert_counters_match(dealer, "a delete")
    assert ("open", dealer.kim_id, None, False, True) not in after
    assert customer_id is not None


async def test_a_change_committed_while_settling_is_counted_once(dealer):
    """A writer's change not yet committed when a settle starts survives it, and two settlers at
    once sum each row once."""
    ids = [await dealer.receive(datetime.now(UTC) - timedelta(hours=h)) for h in range(4)]
    async with dealer.sessions() as writer, writer.begin():
        await writer.execute(
            update(conversations)
            .where(conversations.c.id.in_(ids[:2]))
            .values(assignee_user_id=dealer.sam_id)
        )
        async with dealer.sessions.begin() as session:  # settles while the writer is open
            await settle_counters(session)
        # the writer commits after the settle
    await _assert_counters_match(dealer, "a change committed after a settle")
    assert await _ledger_rows(dealer, settled=False) > 0

    async def settle_once() -> None:
        async with dealer.sessions.begin() as session:
            await settle_counters(session)

    for _ in range(3):
        async with dealer.sessions.begin() as session:
            await session.execute(
                update(conversations).where(conversations.c.id.in_(ids)).values(status="closed")
            )
        async with dealer.sessions.begin() as session:
            await session.execute(
                update(conversations).where(conversations.c.id.in_(ids)).values(status="open")
            )
        await asyncio.gather(settle_once(), settle_once(), dealer.receive(datetime.now(UTC)))
        await _assert_counters_match(dealer, "concurrent settles")


async def test_the_settler_job_settles_until_stopped(dealer, sessions):
    await dealer.receive(datetime.now(UTC))
    assert await _ledger_rows(dealer, settled=False) > 0
    stop = asyncio.Event()
    job = asyncio.create_task(CounterSettler(sessions, interval=0.05).run(stop))
    try:
        for _ in range(100):
            if await _ledger_rows(dealer, settled=False) == 0:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(job, timeout=5)
    assert await _ledger_rows(dealer, settled=False) == 0
    await _assert_counters_match(dealer, "the settler job")
