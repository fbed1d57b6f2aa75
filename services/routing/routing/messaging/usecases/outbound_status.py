"""What happened to a text we sent: notifier reports each step (`sms.outbound_status.v1`, by our
message id) and carriers report delivery later (`carrier.status.v1`, by their message id). A
status only ever moves forward, decided inside one UPDATE, so events that arrive late, twice or
at the same time never move a message backwards. A failure keeps its plain category beside the
carrier's own code; a `landline` one marks the customer's number, which blocks the composer.

A carrier status word we do not know (a carrier added one) is neither guessed at nor sent to
the dead-letter topic, where nobody would connect it to the text: the message keeps its status
and the word is written on it as the carrier's error wording (when it has none yet), with a
warning in the log, so staff and support see it on the message.

A receipt for a carrier id no text has yet (it overtook notifier's report naming that id) is
kept and applied when the report comes (early_receipts.py)."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import structlog
from sqlalchemy import case, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from routing.customers.usecases import emit_customer_changed
from routing.domain.outbound import (
    FAILURE_STATUSES,
    UnknownCarrierStatus,
    status_from_carrier,
    unknown_status_note,
)
from routing.messaging.usecases.early_receipts import (
    keep_early_receipt,
    lock_carrier_message_id,
    take_early_receipts,
)
from routing.outbox import add_event
from routing.tables import conversations, customer_phones, customers, messages
from shared.contracts.carrier import CarrierStatus
from shared.contracts.conversation import DeliveryFailed, MessageStatusChanged
from shared.contracts.messaging import STATUS_RANK, OutboundStatusChanged
from shared.contracts.topics import MESSAGE_DELIVERY_FAILED, MESSAGE_STATUS_CHANGED
from shared.db.idempotency import claim_event

log = structlog.get_logger(__name__)

NOTIFIER_CONSUMER = "routing.outbound_status"
CARRIER_CONSUMER = "routing.carrier_status"


class MessageNotYetKnown(LookupError):
    """No such outbound message (yet) for one of notifier's reports. An ordinary exception, so
    the consumer retries for a while and then dead-letters the event. (A carrier's receipt for
    an unknown carrier id is kept instead: early_receipts.py.)"""


@dataclass(frozen=True)
class StatusReport:
    status: str
    at: datetime
    carrier: str | None = None
    carrier_message_id: str | None = None
    error_category: str | None = None
    error_code: str | None = None
    error_message: str | None = None


async def record_outbound_status(session: AsyncSession, event: OutboundStatusChanged) -> bool:
    """notifier's report. True when the message's status moved. A report naming the carrier's
    message id also applies the receipts that came before it."""
    if not await claim_event(session, "routing", NOTIFIER_CONSUMER, event.event_id):
        return False
    if event.carrier_message_id:
        await lock_carrier_message_id(session, event.account_id, event.carrier_message_id)
    report = StatusReport(
        status=event.status,
        at=event.at or event.occurred_at,
        carrier=event.carrier,
        carrier_message_id=event.carrier_message_id,
        error_category=event.error_category,
        error_code=event.error_code,
        error_message=event.error_message,
    )
    moved = await apply_status(session, event.account_id, event.message_id, report)
    if event.carrier_message_id:
        moved = await _apply_early_receipts(session, event.account_id, event.message_id) or moved
    return moved


async def record_carrier_status(session: AsyncSession, event: CarrierStatus) -> bool:
    """A carrier's delivery receipt. True when the message's status moved. Kept for later when
    no text has its carrier id yet."""
    if not await claim_event(session, "routing", CARRIER_CONSUMER, event.event_id):
        return False
    await lock_carrier_message_id(session, event.account_id, event.carrier_message_id)
    message_id = await session.scalar(
        select(messages.c.id).where(
            messages.c.account_id == event.account_id,
            messages.c.carrier == event.carrier,
            messages.c.carrier_message_id == event.carrier_message_id,
        )
    )
    if message_id is None:
        await keep_early_receipt(session, event)
        return False
    return await _apply_receipt(session, message_id, event)


async def _apply_receipt(session: AsyncSession, message_id: UUID, event: CarrierStatus) -> bool:
    try:
        status = status_from_carrier(event.carrier, event.status)
    except UnknownCarrierStatus:
        await _note_unknown_status(session, message_id, event)
        return False
    report = StatusReport(
        status=status,
        at=event.occurred_at,
        error_category=event.error_category,
        error_code=event.error_code,
        error_message=event.error_message,
    )
    return await apply_status(session, event.account_id, message_id, report)


async def _apply_early_receipts(session: AsyncSession, account_id: UUID, message_id: UUID) -> bool:
    """The kept receipts for the carrier id this message now has, oldest first: each moves the
    message forward only, as it would have on time, so a later status wins and an earlier one
    applied after it changes nothing."""
    known = (
        await session.execute(
            select(messages.c.carrier, messages.c.carrier_message_id).where(
                messages.c.id == message_id, messages.c.account_id == account_id
            )
        )
    ).first()
    if known is None or known.carrier is None or known.carrier_message_id is None:
        return False
    moved = False
    for receipt in await take_early_receipts(session, account_id, known.carrier, known.carrier_message_id):
        log.info(
            "early carrier receipt applied",
            message_id=str(message_id),
            event_id=str(receipt.event_id),
            status=receipt.status,
        )
        moved = await _apply_receipt(session, message_id, receipt) or moved
    return moved


async def _note_unknown_status(session: AsyncSession, message_id: UUID, event: CarrierStatus) -> None:
    note = unknown_status_note(event.carrier, event.status)
    log.warning(
        "unknown carrier status noted on the message",
        message_id=str(message_id),
        carrier=event.carrier,
        status=event.status,
    )
    await session.execute(
        update(messages)
        .where(messages.c.id == message_id, messages.c.error_message.is_(None))
        .values(error_message=note)
    )


def _rank(column) -> object:
    return case(STATUS_RANK, value=column, else_=-1)


async def apply_status(
    session: AsyncSession, account_id: UUID, message_id: UUID, report: StatusReport
) -> bool:
    """Moves the message to `report.status` when that is further along; records the carrier's
    message id when first known. Raises MessageNotYetKnown for a message the account does not
    have."""
    m = messages.c
    failed = report.status in FAILURE_STATUSES
    mine = (m.id == message_id, m.account_id == account_id, m.direction == "outbound")
    changes: dict = {
        "status": report.status,
        "status_updated_at": report.at,
        "carrier": func.coalesce(m.carrier, report.carrier),
        "carrier_message_id": func.coalesce(m.carrier_message_id, report.carrier_message_id),
    }
    if failed:
        changes |= {
            "error_category": report.error_category or "unknown",
            "error_code": report.error_code,
            "error_message": report.error_message,
        }
    moved = (
        await session.execute(
            update(messages)
            .where(*mine, _rank(m.status) < STATUS_RANK[report.status])
            .values(**changes)
            .returning(m.id, m.conversation_id, m.to_e164, m.body, m.sender_user_id)
        )
    ).first()
    if moved is None:
        exists = await session.scalar(select(m.status).where(*mine))
        if exists is None:
            raise MessageNotYetKnown(f"no outbound message {message_id} in account {account_id}")
        if report.carrier_message_id:
            # The step is stale, but the carrier's id it brings is still worth keeping.
            await session.execute(
                update(messages)
                .where(*mine, m.carrier_message_id.is_(None))
                .values(
                    carrier=func.coalesce(m.carrier, report.carrier),
                    carrier_message_id=report.carrier_message_id,
                )
            )
        log.info("stale status ignored", message_id=str(message_id), status=report.status, current=exists)
    to_e164 = moved.to_e164 if moved else await session.scalar(select(m.to_e164).where(*mine))
    if report.error_category == "landline" and to_e164:
        await _mark_landline(session, account_id, to_e164)
    if moved is not None:
        # Every step forward, for the open inbox pages (notifier's live stream).
        changed = MessageStatusChanged(
            account_id=account_id,
            occurred_at=report.at,
            conversation_id=moved.conversation_id,
            message_id=moved.id,
            status=report.status,
            error_category=changes.get("error_category"),
        )
        await add_event(session, MESSAGE_STATUS_CHANGED, changed, key=changed.partition_key)
        if failed:
            await _delivery_failed(session, account_id, moved, report)
    return moved is not None


async def _mark_landline(session: AsyncSession, account_id: UUID, e164: str) -> None:
    """The carrier knows better than the numbering plan: this number cannot receive texts. The
    profile changed, so search and the others hear of it (once: only when the kind changed)."""
    changed = await session.scalar(
        update(customer_phones)
        .where(
            customer_phones.c.account_id == account_id,
            customer_phones.c.e164 == e164,
            customer_phones.c.kind != literal("landline"),
        )
        .values(kind="landline")
        .returning(customer_phones.c.customer_id)
    )
    if changed is not None:
        await emit_customer_changed(session, account_id, changed, "updated")


async def _delivery_failed(session: AsyncSession, account_id: UUID, moved, report: StatusReport) -> None:
    """Once per message (an outcome is recorded once), so the sender hears about it."""
    customer = (
        await session.execute(
            select(
                conversations.c.customer_id,
                func.nullif(func.concat_ws(" ", customers.c.first_name, customers.c.last_name), "").label(
                    "name"
                ),
            )
            .join(customers, customers.c.id == conversations.c.customer_id)
            .where(conversations.c.id == moved.conversation_id)
        )
    ).first()
    event = DeliveryFailed(
        account_id=account_id,
        occurred_at=report.at,
        conversation_id=moved.conversation_id,
        customer_id=customer.customer_id if customer else None,
        message_id=moved.id,
        sender_user_id=moved.sender_user_id,
        customer_name=customer.name if customer else None,
        customer_phone=moved.to_e164,
        body=moved.body or "",
        status=report.status,
        error_category=report.error_category or "unknown",
        error_code=report.error_code,
        error_message=report.error_message,
    )
    await add_event(session, MESSAGE_DELIVERY_FAILED, event, key=event.partition_key)
