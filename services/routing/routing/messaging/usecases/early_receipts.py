"""Delivery receipts that overtook the text's carrier message id. After a Kafka outage a
carrier's `carrier.status.v1` can reach routing before notifier's `sms.outbound_status.v1` that
names the carrier's id for our text: the receipt matches no message yet. It is kept (once per
event) and applied when that report arrives, in the same transaction. One that never matches
stays stored, with a log line, rather than being dead-lettered where nobody connects it to a
text.

Both sides take one lock per carrier message id first, so a receipt and the report naming its
id, handled at the same moment, cannot miss each other: whichever commits second sees the
other's row."""

from uuid import UUID

import structlog
from sqlalchemy import delete, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from routing.tables import early_carrier_receipts
from shared.contracts.carrier import CarrierStatus

log = structlog.get_logger(__name__)

_LOCK_SEED = 13  # keeps these locks apart from other hashtextextended advisory locks


async def lock_carrier_message_id(session: AsyncSession, account_id: UUID, carrier_message_id: str) -> None:
    """Until the transaction ends. Keyed without the carrier, which notifier's report may leave
    out; two carriers sharing an id only wait for each other."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, :seed))"),
        {"key": f"routing.carrier_receipt:{account_id}:{carrier_message_id}", "seed": _LOCK_SEED},
    )


async def keep_early_receipt(session: AsyncSession, event: CarrierStatus) -> None:
    await session.execute(
        insert(early_carrier_receipts)
        .values(
            event_id=event.event_id,
            account_id=event.account_id,
            carrier=event.carrier,
            carrier_message_id=event.carrier_message_id,
            status=event.status,
            error_category=event.error_category,
            error_code=event.error_code,
            error_message=event.error_message,
            occurred_at=event.occurred_at,
        )
        .on_conflict_do_nothing(index_elements=["event_id"])
    )
    log.warning(
        "carrier receipt kept until its text's carrier id is known",
        event_id=str(event.event_id),
        carrier=event.carrier,
        carrier_message_id=event.carrier_message_id,
        status=event.status,
    )


async def take_early_receipts(
    session: AsyncSession, account_id: UUID, carrier: str, carrier_message_id: str
) -> list[CarrierStatus]:
    """The receipts kept for this text, oldest first (carrier time, then arrival), removed from
    the table: the caller applies them in the same transaction."""
    r = early_carrier_receipts.c
    rows = (
        await session.execute(
            delete(early_carrier_receipts)
            .where(
                r.account_id == account_id,
                r.carrier == carrier,
                r.carrier_message_id == carrier_message_id,
            )
            .returning(*early_carrier_receipts.c)
        )
    ).all()
    rows = sorted(rows, key=lambda row: (row.occurred_at, row.arrival))
    return [
        CarrierStatus(
            event_id=row.event_id,
            occurred_at=row.occurred_at,
            account_id=row.account_id,
            carrier=row.carrier,
            carrier_message_id=row.carrier_message_id,
            status=row.status,
            error_category=row.error_category,
            error_code=row.error_code,
            error_message=row.error_message,
        )
        for row in rows
    ]
