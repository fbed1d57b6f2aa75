"""Catch-up's queries: the numbers to list (with their checkpoint, lease and last problem), the
credentials to list them with, and the outbound texts still waiting for a final status.

Every replica runs catch-up: a number (or an outbound text) is taken with `FOR UPDATE SKIP
LOCKED` and held by a lease committed at once, so two replicas never list the same number at the
same time and a replica that dies only delays its numbers by the lease."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ingest.domain.catch_up import FINAL_STATUSES


@dataclass(frozen=True)
class DueNumber:
    e164: str
    carrier: str
    account_id: UUID
    checkpoint: datetime | None
    failures: int


@dataclass(frozen=True)
class NumberState:
    e164: str
    carrier: str
    checkpoint: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None


@dataclass(frozen=True)
class PendingOutbound:
    carrier: str
    carrier_message_id: str
    account_id: UUID
    sent_at: datetime
    checks: int


async def register_number(session: AsyncSession, account_id: UUID, e164: str, carrier: str) -> None:
    # A number that moved to another account or carrier starts again from the initial lookback.
    await session.execute(
        text(
            "INSERT INTO ingest.catch_up_numbers (e164, carrier, account_id)"
            " VALUES (:e164, :carrier, :account)"
            " ON CONFLICT (e164) DO UPDATE SET carrier = excluded.carrier, account_id = excluded.account_id,"
            " checkpoint = CASE WHEN catch_up_numbers.account_id = excluded.account_id"
            " AND catch_up_numbers.carrier = excluded.carrier THEN catch_up_numbers.checkpoint END,"
            " next_run_at = now()"
        ),
        {"e164": e164, "carrier": carrier, "account": account_id},
    )


async def forget_number(session: AsyncSession, account_id: UUID, e164: str) -> bool:
    removed = await session.execute(
        text("DELETE FROM ingest.catch_up_numbers WHERE e164 = :e164 AND account_id = :account RETURNING 1"),
        {"e164": e164, "account": account_id},
    )
    return removed.first() is not None


async def number_owner(session: AsyncSession, e164: str) -> UUID | None:
    return await session.scalar(
        text("SELECT account_id FROM ingest.catch_up_numbers WHERE e164 = :e164"), {"e164": e164}
    )


async def claim_due_numbers(session: AsyncSession, lease_seconds: float, limit: int) -> list[DueNumber]:
    rows = await session.execute(
        text(
            "UPDATE ingest.catch_up_numbers n SET lease_until = now() + make_interval(secs => :lease),"
            " last_run_at = now() WHERE e164 IN (SELECT e164 FROM ingest.catch_up_numbers"
            " WHERE next_run_at <= now() AND (lease_until IS NULL OR lease_until < now())"
            " ORDER BY next_run_at LIMIT :limit FOR UPDATE SKIP LOCKED)"
            " RETURNING e164, carrier, account_id, checkpoint, failures"
        ),
        {"lease": lease_seconds, "limit": limit},
    )
    return [DueNumber(r.e164, r.carrier, r.account_id, r.checkpoint, r.failures) for r in rows]


async def record_success(
    session: AsyncSession, e164: str, checkpoint: datetime, next_in_seconds: float
) -> None:
    await session.execute(
        text(
            "UPDATE ingest.catch_up_numbers SET checkpoint = greatest(checkpoint, :checkpoint),"
            " last_success_at = now(), failures = 0, last_error = NULL, last_error_at = NULL,"
            " lease_until = NULL, next_run_at = now() + make_interval(secs => :next) WHERE e164 = :e164"
        ),
        {"e164": e164, "checkpoint": checkpoint, "next": next_in_seconds},
    )


async def record_failure(session: AsyncSession, e164: str, error: str, next_in_seconds: float) -> None:
    """The checkpoint stays where it was: the next attempt lists the same texts again."""
    await session.execute(
        text(
            "UPDATE ingest.catch_up_numbers SET failures = failures + 1, last_error = :error,"
            " last_error_at = now(), lease_until = NULL,"
            " next_run_at = now() + make_interval(secs => :next) WHERE e164 = :e164"
        ),
        {"e164": e164, "error": error[:500], "next": next_in_seconds},
    )


async def number_states(session: AsyncSession, account_id: UUID) -> list[NumberState]:
    rows = await session.execute(
        text(
            "SELECT e164, carrier, checkpoint, last_success_at, last_error, last_error_at"
            " FROM ingest.catch_up_numbers WHERE account_id = :account ORDER BY carrier, e164"
        ),
        {"account": account_id},
    )
    return [
        NumberState(r.e164, r.carrier, r.checkpoint, r.last_success_at, r.last_error, r.last_error_at)
        for r in rows
    ]


async def twilio_credentials(session: AsyncSession, account_id: UUID) -> tuple[str, str] | None:
    row = (
        await session.execute(
            text(
                "SELECT account_sid, auth_token FROM ingest.twilio_accounts WHERE account_id = :account"
                " ORDER BY updated_at DESC LIMIT 1"
            ),
            {"account": account_id},
        )
    ).first()
    return (row.account_sid, row.auth_token) if row else None


async def telnyx_api_key(session: AsyncSession, account_id: UUID) -> str | None:
    return await session.scalar(
        text("SELECT api_key FROM ingest.telnyx_accounts WHERE account_id = :account"),
        {"account": account_id},
    )


async def set_telnyx_api_key(session: AsyncSession, account_id: UUID, api_key: str | None) -> None:
    await session.execute(
        text(
            "UPDATE ingest.telnyx_accounts SET api_key = :key, updated_at = now() WHERE account_id = :account"
        ),
        {"account": account_id, "key": api_key},
    )


async def claim_webhooks(session: AsyncSession, carrier: str, kind: str, keys: list[str]) -> set[str]:
    """Claims many dedupe keys at once (the webhooks' table): the ones not seen before."""
    if not keys:
        return set()
    claimed = await session.execute(
        text(
            "INSERT INTO ingest.received_webhooks (carrier, kind, dedupe_key)"
            " SELECT :c, :k, unnest(CAST(:keys AS text[])) ON CONFLICT DO NOTHING RETURNING dedupe_key"
        ),
        {"c": carrier, "k": kind, "keys": keys},
    )
    return set(claimed.scalars())


async def remember_outbound(
    session: AsyncSession,
    carrier: str,
    message_id: str,
    account_id: UUID,
    sent_at: datetime,
    check_after: float,
) -> None:
    await session.execute(
        text(
            "INSERT INTO ingest.outbound_pending"
            " (carrier, carrier_message_id, account_id, sent_at, next_check_at)"
            " VALUES (:carrier, :id, :account, :sent_at, CAST(:sent_at AS timestamptz)"
            " + make_interval(secs => :after)) ON CONFLICT DO NOTHING"
        ),
        {
            "carrier": carrier,
            "id": message_id,
            "account": account_id,
            "sent_at": sent_at,
            "after": check_after,
        },
    )


async def forget_outbound(session: AsyncSession, carrier: str, message_id: str) -> None:
    await session.execute(
        text("DELETE FROM ingest.outbound_pending WHERE carrier = :carrier AND carrier_message_id = :id"),
        {"carrier": carrier, "id": message_id},
    )


async def claim_due_outbound(
    session: AsyncSession, lease_seconds: float, limit: int
) -> list[PendingOutbound]:
    """First forgets the texts whose final status already went out (a webhook came after all),
    then takes due ones."""
    await session.execute(
        text(
            "DELETE FROM ingest.outbound_pending p WHERE next_check_at <= now() AND EXISTS ("
            " SELECT 1 FROM ingest.received_webhooks w WHERE w.carrier = p.carrier AND w.kind = 'status'"
            " AND w.dedupe_key IN (SELECT p.carrier_message_id || ':' || s FROM unnest(CASE p.carrier"
            " WHEN 'twilio' THEN CAST(:twilio AS text[]) ELSE CAST(:telnyx AS text[]) END) s))"
        ),
        {"twilio": sorted(FINAL_STATUSES["twilio"]), "telnyx": sorted(FINAL_STATUSES["telnyx"])},
    )
    rows = await session.execute(
        text(
            "UPDATE ingest.outbound_pending SET lease_until = now() + make_interval(secs => :lease)"
            " WHERE (carrier, carrier_message_id) IN (SELECT carrier, carrier_message_id"
            " FROM ingest.outbound_pending WHERE next_check_at <= now()"
            " AND (lease_until IS NULL OR lease_until < now()) ORDER BY next_check_at LIMIT :limit"
            " FOR UPDATE SKIP LOCKED) RETURNING carrier, carrier_message_id, account_id, sent_at, checks"
        ),
        {"lease": lease_seconds, "limit": limit},
    )
    return [PendingOutbound(r.carrier, r.carrier_message_id, r.account_id, r.sent_at, r.checks) for r in rows]


async def reschedule_outbound(
    session: AsyncSession, carrier: str, message_id: str, next_in_seconds: float
) -> None:
    await session.execute(
        text(
            "UPDATE ingest.outbound_pending SET checks = checks + 1, lease_until = NULL,"
            " next_check_at = now() + make_interval(secs => :next)"
            " WHERE carrier = :carrier AND carrier_message_id = :id"
        ),
        {"carrier": carrier, "id": message_id, "next": next_in_seconds},
    )
