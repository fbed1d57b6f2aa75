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
    lease_token: UUID | None = None,
) -> bool:
    """True the first time this message id is seen; False for every redelivery. A message stored
    `sending` is leased to `lease_token` until `lease_until`."""
    claimed = await session.execute(
        text(
            "INSERT INTO notifier.outbound_messages (message_id, account_id, carrier, from_number,"
            " to_number, status, request, not_before, lease_until, lease_token)"
            " VALUES (:id, :account, :carrier, :from_number, :to_number, :status, CAST(:request AS jsonb),"
            " :not_before, :lease, :token) ON CONFLICT (message_id) DO NOTHING RETURNING 1"
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
            "token": lease_token,
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


# Every write below made while sending counts only for the holder of the current lease token:
# a replica whose lease ran out (and whose message another replica took) changes nothing.


async def renew_lease(session: AsyncSession, message_id: UUID, token: UUID, lease_until: datetime) -> bool:
    """Extends this holder's lease; False when the message is no longer ours to send."""
    renewed = await session.execute(
        text(
            "UPDATE notifier.outbound_messages SET lease_until = :lease, updated_at = now()"
            " WHERE message_id = :id AND status = 'sending' AND lease_token = :token"
        ),
        {"id": message_id, "token": token, "lease": lease_until},
    )
    return renewed.rowcount == 1


async def record_outcome(
    session: AsyncSession,
    message_id: UUID,
    lease_token: UUID,
    status: str,
    attempts: int,
    carrier_message_id: str | None = None,
    error_category: str | None = None,
    error_code: str | None = None,
    error_message: str | None = None,
) -> bool:
    """False (and nothing written) when this sender no longer holds the message."""
    recorded = await session.execute(
        text(
            "UPDATE notifier.outbound_messages SET status = :status, attempts = attempts + :attempts,"
            " carrier_message_id = :carrier_id, error_category = :category, error_code = :code,"
            " error_message = :message, lease_until = NULL, lease_token = NULL, updated_at = now()"
            " WHERE message_id = :id AND status = 'sending' AND lease_token = :token"
        ),
        {
            "id": message_id,
            "token": lease_token,
            "status": status,
            "attempts": attempts,
            "carrier_id": carrier_message_id,
            "category": error_category,
            "code": error_code,
            "message": error_message,
        },
    )
    return recorded.rowcount == 1


async def carrier_ids_in_use(session: AsyncSession, carrier: str, carrier_ids: list[str]) -> set[str]:
    """Which of these carrier message ids are already recorded for some message of ours."""
    if not carrier_ids:
        return set()
    rows = await session.execute(
        text(
            "SELECT carrier_message_id FROM notifier.outbound_messages"
            " WHERE carrier = :carrier AND carrier_message_id = ANY(:ids)"
        ),
        {"carrier": carrier, "ids": carrier_ids},
    )
    return {row.carrier_message_id for row in rows}


async def due_ids(session: AsyncSession, now: datetime, limit: int) -> list[tuple[UUID, str]]:
    """Held messages whose time came, and messages whose sender's lease ran out (a replica that
        died), with their sending numbers; none of a suspended dealership (they wait for it to
    resume). Nothing is taken yet: each is leased on its own just before it is sent."""
    rows = await session.execute(
        text(
            "SELECT message_id, from_number FROM notifier.outbound_messages m"
            " WHERE ((status = 'scheduled' AND not_before <= :now)"
            "    OR (status = 'sending' AND lease_until < :now))"
            " AND NOT EXISTS (SELECT 1 FROM notifier.account_suspensions s"
            "    WHERE s.account_id = m.account_id AND s.suspended)"
            " ORDER BY COALESCE(not_before, lease_until) LIMIT :limit"
        ),
        {"now": now, "limit": limit},
    )
    return [(row.message_id, row.from_number) for row in rows]


@dataclass(frozen=True)
class LeasedOutbound:
    request: OutboundRequested
    lease_token: UUID
    # Taken over from a sender whose lease ran out: that sender may have reached the carrier.
    orphaned: bool
    created_at: datetime


async def lease_due(
    session: AsyncSession, message_id: UUID, now: datetime, lease_until: datetime, token: UUID
) -> LeasedOutbound | None:
    """Marks one due message `sending` under a fresh token; None when it is no longer due (another
    replica leased it, or it was settled meanwhile)."""
    row = (
        await session.execute(
            text(
                "UPDATE notifier.outbound_messages m SET status = 'sending', lease_token = :token,"
                " lease_until = :lease, not_before = NULL, updated_at = now()"
                " FROM (SELECT message_id, status AS was FROM notifier.outbound_messages"
                "       WHERE message_id = :id FOR UPDATE) old"
                " WHERE m.message_id = old.message_id"
                "   AND ((m.status = 'scheduled' AND m.not_before <= :now)"
                "     OR (m.status = 'sending' AND m.lease_until < :now))"
                " RETURNING m.request, old.was, m.created_at"
            ),
            {"id": message_id, "now": now, "lease": lease_until, "token": token},
        )
    ).first()
    if row is None:
        return None
    return LeasedOutbound(
        OutboundRequested.model_validate(row.request), token, row.was == "sending", row.created_at
    )


async def reschedule(session: AsyncSession, message_id: UUID, token: UUID, not_before: datetime) -> bool:
    rescheduled = await session.execute(
        text(
            "UPDATE notifier.outbound_messages SET status = 'scheduled', not_before = :at,"
            " lease_until = NULL, lease_token = NULL, updated_at = now()"
            " WHERE message_id = :id AND lease_token = :token"
        ),
        {"id": message_id, "token": token, "at": not_before},
    )
    return rescheduled.rowcount == 1
