"""DMS events applied by routing on the real database: idempotent on the event id, an older
version never overwrites a newer one, and appointments by day with their customer and
conversation."""

import copy
import json
from datetime import UTC, datetime

from sqlalchemy import func, select, update

from routing.tables import accounts, appointments, customer_phones, customers, outbox, payments

from .dms_helpers import apply, appointment_event, customer_event, dms_id, new_number


async def _profile(sessions, account_id, dms_customer_id):
    async with sessions() as session:
        row = (
            await session.execute(
                select(customers).where(
                    customers.c.account_id == account_id, customers.c.dms_customer_id == dms_customer_id
                )
            )
        ).one()
        phones = (
            await session.execute(
                select(customer_phones.c.e164, customer_phones.c.kind).where(
                    customer_phones.c.customer_id == row.id
                )
            )
        ).all()
    return row, sorted(tuple(phone) for phone in phones)


async def _outbox_count(sessions) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(outbox))


async def test_a_customer_record_creates_then_updates_the_dms_profile(dealer, sessions):
    cid, mobile, home = dms_id(), new_number(), new_number()
    assert await apply(sessions, customer_event(dealer.account_id, cid, 1, [(mobile, "mobile")]))
    changed = customer_event(
        dealer.account_id, cid, 2, [(home, "landline"), (mobile, "mobile")], first_name="Patricia"
    )
    assert await apply(sessions, changed)
    row, phones = await _profile(sessions, dealer.account_id, cid)
    assert (row.first_name, row.dms_record_version) == ("Patricia", 2)
    assert phones == sorted([(home, "landline"), (mobile, "mobile")])
    # Dropping a number from the DMS record takes it off the profile.
    assert await apply(sessions, customer_event(dealer.account_id, cid, 3, [(home, "landline")]))
    assert (await _profile(sessions, dealer.account_id, cid))[1] == [(home, "landline")]


async def test_a_duplicate_or_replayed_event_changes_nothing(dealer, sessions):
    cid = dms_id()
    event = customer_event(dealer.account_id, cid, 1, [(new_number(), "mobile")])
    assert await apply(sessions, event)
    before = await _outbox_count(sessions)
    assert not await apply(sessions, event)  # same event id
    assert not await apply(sessions, {**copy.deepcopy(event), "event_id": event["event_id"].upper()})
    replay = customer_event(dealer.account_id, cid, 1, [(new_number(), "mobile")], first_name="Other")
    assert not await apply(sessions, replay)  # new id, same version: a replay of the record
    assert await _outbox_count(sessions) == before
    assert (await _profile(sessions, dealer.account_id, cid))[0].first_name == "Pat"


async def test_an_older_version_after_a_newer_one_is_ignored(dealer, sessions):
    cid, old_number, new = dms_id(), new_number(), new_number()
    await apply(sessions, customer_event(dealer.account_id, cid, 20, [(new, "mobile")], first_name="New"))
    assert not await apply(
        sessions, customer_event(dealer.account_id, cid, 10, [(old_number, "mobile")], "Old")
    )
    row, phones = await _profile(sessions, dealer.account_id, cid)
    assert (row.first_name, phones) == ("New", [(new, "mobile")])

    # The same for appointments, repair orders and payments.
    newer = appointment_event(dealer.account_id, "A-9", cid, "2026-12-01T10:00:00-05:00", version=5)
    older = appointment_event(
        dealer.account_id, "A-9", cid, "2026-12-01T08:00:00-05:00", version=4, kind="appointment.cancelled"
    )
    assert await apply(sessions, newer)
    assert not await apply(sessions, older)
    async with sessions() as session:
        stored = (
            await session.execute(
                select(appointments).where(
                    appointments.c.account_id == dealer.account_id, appointments.c.dms_appointment_id == "A-9"
                )
            )
        ).one()
    assert (stored.status, stored.starts_at, stored.record_version) == (
        "booked",
        datetime(2026, 12, 1, 15, tzinfo=UTC),
        5,
    )


async def test_a_payment_keeps_its_exact_amount_and_one_row_per_payment(dealer, sessions):
    event = {
        "event_id": "0b7d8f6e-4b7a-4c39-9b51-4f4a1d2b3c01",
        "account_id": str(dealer.account_id),
        "type": "payment.recorded",
        "dms_record_id": "PAY-1",
        "record_version": "2026-11-25T10:00:00Z",
        "payload": {"payment_id": "PAY-1", "dms_customer_id": "C-1", "amount": "412.5", "currency": "CAD"},
    }
    assert await apply(sessions, event)
    corrected = {
        **event,
        "event_id": "0b7d8f6e-4b7a-4c39-9b51-4f4a1d2b3c02",
        "record_version": "2026-11-25T11:00:00Z",
    }
    corrected["payload"] = {**event["payload"], "amount": "413.00"}
    assert await apply(sessions, corrected)
    async with sessions() as session:
        rows = (
            await session.execute(select(payments.c.amount).where(payments.c.account_id == dealer.account_id))
        ).all()
    assert [str(row.amount) for row in rows] == ["413.00"]


async def test_appointments_of_a_day_in_the_account_time_zone(client, dealer, other_dealer, sessions, ago):
    async with sessions.begin() as session:
        await session.execute(
            update(accounts).where(accounts.c.id == dealer.account_id).values(time_zone="America/Toronto")
        )
    known, unknown, mobile = dms_id(), dms_id(), new_number()
    await apply(sessions, customer_event(dealer.account_id, known, 1, [(mobile, "mobile")], "Jo", "Tremblay"))
    conversation_id = await dealer.receive(ago(1), "is my car ready?", customer_number=mobile)
    # 23:30 in Toronto on Dec 1 is Dec 2 in UTC: it belongs to Dec 1 for the dealership.
    late = appointment_event(dealer.account_id, "A-late", known, "2026-12-01T23:30:00-05:00")
    early = appointment_event(
        dealer.account_id, "A-early", unknown, "2026-12-01T08:00:00-05:00", appointment_type="tires"
    )
    next_day = appointment_event(dealer.account_id, "A-next", known, "2026-12-02T00:30:00-05:00")
    for event in (late, early, next_day):
        await apply(sessions, event)
    await apply(
        sessions, appointment_event(other_dealer.account_id, "A-x", known, "2026-12-01T09:00:00-05:00")
    )

    response = await client.get("/api/v1/appointments", params={"date": "2026-12-01"}, headers=dealer.sam)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [item["dms_appointment_id"] for item in items] == ["A-early", "A-late"]
    assert items[0]["customer"] is None and items[0]["appointment_type"] == "tires"
    assert items[1]["customer"]["first_name"] == "Jo"
    assert items[1]["customer"]["mobile_e164"] == mobile
    assert items[1]["active_conversation_id"] == str(conversation_id)
    assert items[1]["vehicle"]["vin"] == "2HGFC2F59KH512345"

    other = await client.get("/api/v1/appointments", params={"date": "2026-12-01"}, headers=other_dealer.sam)
    assert [item["dms_appointment_id"] for item in other.json()["items"]] == ["A-x"]
    assert (
        await client.get("/api/v1/appointments", params={"date": "12/01/2026"}, headers=dealer.sam)
    ).status_code == 422
    assert (await client.get("/api/v1/appointments", params={"date": "2026-12-01"})).status_code == 401


async def test_every_profile_change_is_announced_with_the_whole_profile(dealer, sessions, client):
    cid, mobile = dms_id(), new_number()
    await apply(sessions, customer_event(dealer.account_id, cid, 1, [(mobile, "mobile")], "Jo", "Tremblay"))
    row, _ = await _profile(sessions, dealer.account_id, cid)
    async with sessions() as session:
        payloads = (
            (
                await session.execute(
                    select(outbox.c.payload).where(
                        outbox.c.topic == "customer.changed.v1", outbox.c.key == str(row.id)
                    )
                )
            )
            .scalars()
            .all()
        )
    last = json.loads(bytes(payloads[-1]))
    assert last["dms_customer_id"] == cid and last["first_name"] == "Jo"
    assert last["phones"] == [{"e164": mobile, "kind": "mobile"}]

    # Staff edits are announced too.
    response = await client.patch(
        f"/api/v1/customers/{row.id}", json={"first_name": "Joanne"}, headers=dealer.sam
    )
    assert response.status_code == 200, response.text
    async with sessions() as session:
        latest = await session.scalar(
            select(outbox.c.payload)
            .where(outbox.c.topic == "customer.changed.v1", outbox.c.key == str(row.id))
            .order_by(outbox.c.id.desc())
            .limit(1)
        )
    assert json.loads(bytes(latest))["first_name"] == "Joanne"
