"""notifier.outbound_messages: the idempotency record of each outbound message and its state."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts.messaging import OutboundRequested


@dataclass(frozen=True)
class StoredOutbound:
    request: OutboundRequested
    status: str
    carrier_message_id: str | None
    error_category: str | None
    error_code: str | None
    error_message: str | None


async def claim_message(
    session: AsyncSession,
    event: OutboundRequested,
    status: str,
    not_before: datetime | None,
    lease_until: datetime | None,
) -> bool:
    """True the first time this message id is seen; False for every redelivery."""
    claimed = await session.execute(
        text(
            "INSERT INTO notifier.outbound_messages (message_id, account_id, carrier, from_number,"
            " to_number, status, request, not_before, lease_until)"
            " VALUES (:id, :account, :carrier, :from_number, :to_number, :status, CAST(:request AS jsonb),"
            " :not_before, :lease) ON CONFLICT (message_id) DO NOTHING RETURNING 1"
        ),
        {
            "id": event.message_id,
            "account": event.account_id,
            "carrier": event.carrier,
            "from_number": event.from_number,
            "to_number": event.to_number,
            "status": status,
            "request": event.model_dump_json(),
            "not_before": not_before,
            "lease": lease_until,
        },
    )
    return claimed.scalar() is not None


async def load_message(session: AsyncSession, message_id: UUID) -> StoredOutbound | None:
    row = (
        await session.execute(
            text(
                "SELECT request, status, carrier_message_id, error_category, error_code, error_message"
                " FROM notifier.outbound_messages WHERE message_id = :id"
            ),
            {"id": message_id},
        )
    ).first()
    if row is None:
        return None
    return StoredOutbound(
        OutboundRequested.model_validate(row.request),
        row.status,
        row.carrier_message_id,
        row.error_category,
        row.error_code,
        row.error_message,
    )


async def record_outcome(
    session: AsyncSession,
    message_id: UUID,
    status: str,
    attempts: int,
    carrier_message_id: str | None = None,
    error_category: str | None = None,
    error_code: str | None = None,
    error_message: str | None = None,
) -> None:
    await session.execute(
        text(
            "UPDATE notifier.outbound_messages SET status = :status, attempts = attempts + :attempts,"
            " carrier_message_id = :carrier_id, error_category = :category, error_code = :code,"
            " error_message = :message, lease_until = NULL, updated_at = now() WHERE message_id = :id"
        ),
        {
            "id": message_id,
            "status": status,
            "attempts": attempts,
            "carrier_id": carrier_message_id,
            "category": error_category,
            "code": error_code,
            "message": error_message,
        },
    )


async def take_due(session: AsyncSession, now: datetime, limit: int) -> list[OutboundRequested]:
    """Held messages whose time came, and messages a dead replica left `sending`; locked so that
    each replica takes different ones."""
    rows = await session.execute(
        text(
            "SELECT message_id, request FROM notifier.outbound_messages"
            " WHERE (status = 'scheduled' AND not_before <= :now)"
            "    OR (status = 'sending' AND lease_until < :now)"
            " ORDER BY COALESCE(not_before, lease_until) LIMIT :limit FOR UPDATE SKIP LOCKED"
        ),
        {"now": now, "limit": limit},
    )
    return [OutboundRequested.model_validate(row.request) for row in rows]


async def mark_sending(session: AsyncSession, message_id: UUID, lease_until: datetime) -> None:
    await session.execute(
        text(
            "UPDATE notifier.outbound_messages SET status = 'sending', lease_until = :lease,"
            " not_before = NULL, updated_at = now() WHERE message_id = :id"
        ),
        {"id": message_id, "lease": lease_until},
    )


async def reschedule(session: AsyncSession, message_id: UUID, not_before: datetime) -> None:
    await session.execute(
        text(
            "UPDATE notifier.outbound_messages SET status = 'scheduled', not_before = :at,"
            " lease_until = NULL, updated_at = now() WHERE message_id = :id"
        ),
        {"id": message_id, "at": not_before},
    )
