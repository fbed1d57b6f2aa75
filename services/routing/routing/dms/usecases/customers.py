"""A DMS customer record arrives (`customer.upserted`): the DMS profile is created or updated
with it, its numbers become exactly the DMS's, and a mobile number another profile holds makes
the two profiles one (merge.py). Idempotent on the event id; an older version of the
record than the one applied changes nothing. Each number a DMS record holds keeps the time and
id of the event that claimed it (`claimed_at`, `claim_event_id`): between two DMS records the
later claim keeps the number (domain/merge.py)."""

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import structlog
from sqlalchemy import delete, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from routing.customers.usecases import emit_customer_changed
from routing.dms.usecases.merge import merge_profiles
from routing.domain.merge import (
    Claim,
    ClaimStamp,
    DmsNumber,
    Holder,
    claim_number,
    dms_numbers,
    is_newer,
    renewed_claim,
)
from routing.tables import customer_phones, customers
from shared.contracts.dms import CustomerUpserted
from shared.db.idempotency import claim_event

log = structlog.get_logger(__name__)
CONSUMER = "routing.dms_events"


async def upsert_dms_customer(session: AsyncSession, event: CustomerUpserted, region: str) -> UUID | None:
    """The DMS profile's id, or None when the event was a duplicate or older than what is stored."""
    if not await claim_event(session, "routing", CONSUMER, event.event_id):
        return None
    account_id = event.account_id
    payload = event.payload
    now = datetime.now(UTC)
    profile = await _dms_profile(session, account_id, payload.dms_customer_id, now)
    if not is_newer(event.record_version, profile.dms_record_version):
        log.info(
            "older or same DMS customer version ignored",
            dms_customer_id=payload.dms_customer_id,
            version=event.record_version,
            stored=profile.dms_record_version,
        )
        return None
    await session.execute(
        update(customers)
        .where(customers.c.id == profile.id)
        .values(
            first_name=payload.first_name,
            last_name=payload.last_name,
            email=payload.email,
            dms_record_version=event.record_version,
            updated_at=now,
        )
    )
    numbers, unusable = dms_numbers([(phone.number, phone.type) for phone in payload.phones], region)
    if unusable:
        log.warning("DMS phone numbers skipped", dms_customer_id=payload.dms_customer_id, numbers=unusable)
    # Numbers the DMS no longer lists are no longer the customer's (conversations stay).
    await session.execute(
        delete(customer_phones).where(
            customer_phones.c.customer_id == profile.id,
            customer_phones.c.e164.not_in([number.e164 for number in numbers]),
        )
    )
    for index, number in enumerate(numbers):
        # A microsecond apart, so the profile lists the numbers in the DMS's order.
        at = now + timedelta(microseconds=index)
        await _take_number(session, account_id, profile.id, event, number, at)
    await emit_customer_changed(session, account_id, profile.id, "dms_upserted")
    return profile.id


async def _dms_profile(session: AsyncSession, account_id: UUID, dms_customer_id: str, now: datetime):
    await session.execute(
        insert(customers)
        .values(
            id=uuid4(),
            account_id=account_id,
            dms_customer_id=dms_customer_id,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(
            index_elements=["account_id", "dms_customer_id"],
            index_where=text("dms_customer_id IS NOT NULL"),
        )
    )
    return (
        await session.execute(
            select(customers.c.id, customers.c.dms_record_version)
            .where(customers.c.account_id == account_id, customers.c.dms_customer_id == dms_customer_id)
            .with_for_update()
        )
    ).one()


async def _take_number(
    session: AsyncSession,
    account_id: UUID,
    customer_id: UUID,
    event: CustomerUpserted,
    number: DmsNumber,
    now: datetime,
) -> None:
    claim = ClaimStamp.of(event.occurred_at, event.event_id)
    holder = (
        await session.execute(
            select(
                customer_phones.c.id,
                customer_phones.c.customer_id,
                customer_phones.c.claimed_at,
                customer_phones.c.claim_event_id,
                customers.c.dms_customer_id,
            )
            .join(customers, customers.c.id == customer_phones.c.customer_id)
            .where(customer_phones.c.account_id == account_id, customer_phones.c.e164 == number.e164)
            .with_for_update(of=customer_phones)
        )
    ).first()
    if holder is None:
        claimed = await session.scalar(
            insert(customer_phones)
            .values(
                id=uuid4(),
                account_id=account_id,
                customer_id=customer_id,
                e164=number.e164,
                kind=number.kind,
                created_at=now,
                claimed_at=claim.at,
                claim_event_id=claim.event_id,
            )
            .on_conflict_do_nothing(index_elements=["account_id", "e164"])
            .returning(customer_phones.c.id)
        )
        if claimed is None:  # a text from that number created a profile meanwhile
            raise RuntimeError("phone number claimed concurrently; retry")
        return
    stored = ClaimStamp.of(holder.claimed_at, holder.claim_event_id) if holder.claimed_at else None
    if holder.customer_id == customer_id:
        # Listed again by its own record: the claim is renewed, so an older claim by another
        # record that arrives late does not take it.
        renewed = renewed_claim(stored, claim)
        await session.execute(
            update(customer_phones)
            .where(customer_phones.c.id == holder.id)
            .values(kind=number.kind, claimed_at=renewed.at, claim_event_id=renewed.event_id)
        )
        return
    decision = claim_number(claim, Holder(holder.customer_id, holder.dms_customer_id, stored), number.kind)
    if decision is Claim.KEEP:
        log.info("number stays with its holder", e164=number.e164, holder=str(holder.customer_id))
        return
    if decision is Claim.MERGE:
        await merge_profiles(session, account_id, customer_id, holder.customer_id, number.e164, now)
    else:
        await session.execute(
            update(customer_phones).where(customer_phones.c.id == holder.id).values(customer_id=customer_id)
        )
        await emit_customer_changed(session, account_id, holder.customer_id, "updated")
    await session.execute(
        update(customer_phones)
        .where(customer_phones.c.id == holder.id)
        .values(kind=number.kind, claimed_at=claim.at, claim_event_id=claim.event_id)
    )
