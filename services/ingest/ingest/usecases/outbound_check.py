"""Outbound texts without a final status: ingest remembers each text notifier reports `sent`
(`sms.outbound_status.v1` carries the carrier's id), and one still without a final status
`outbound_status_after_seconds` later has its status fetched from the carrier. A final one is
published as `carrier.status.v1` through the same claim as a status callback (`<id>:<status>`),
so a callback that comes after all changes nothing; routing never moves a status backwards.
Not final yet: asked again with back-off, until `outbound_status_give_up_seconds`."""

from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from ingest import catch_up_repository as repo
from ingest.carriers.errors import CarrierUnavailable, CredentialsRejected
from ingest.domain.catch_up import backoff_seconds, status_event
from ingest.usecases.catch_up import CatchUpDeps
from shared.contracts.messaging import OutboundStatusChanged
from shared.contracts.topics import CARRIER_STATUS

log = structlog.get_logger(__name__)
FINAL_FROM_NOTIFIER = frozenset({"delivered", "undelivered", "failed"})
# Texts checked per cycle and replica.
CHECKS_PER_CYCLE = 200


async def note_outbound_status(
    session: AsyncSession, event: OutboundStatusChanged, check_after: float
) -> None:
    """notifier's report: a text the carrier accepted is watched until its final status."""
    if not event.carrier or not event.carrier_message_id:
        return
    if event.status == "sent":
        sent_at = event.at or event.occurred_at
        await repo.remember_outbound(
            session, event.carrier, event.carrier_message_id, event.account_id, sent_at, check_after
        )
    elif event.status in FINAL_FROM_NOTIFIER:
        await repo.forget_outbound(session, event.carrier, event.carrier_message_id)


async def run_outbound_cycle(deps: CatchUpDeps) -> int:
    """Returns how many final statuses were recovered."""
    settings = deps.settings
    async with deps.sessions.begin() as session:
        due = await repo.claim_due_outbound(session, settings.catch_up_lease_seconds, CHECKS_PER_CYCLE)
    recovered = 0
    for pending in due:
        recovered += await _check(deps, pending)
    return recovered


async def _check(deps: CatchUpDeps, pending: repo.PendingOutbound) -> int:
    settings = deps.settings
    now = datetime.now(UTC)
    retry_after, api = None, None
    try:
        async with deps.sessions() as session:
            api = await deps.apis.for_account(session, pending.account_id, pending.carrier)
        fetched = await api.status_of(pending.carrier_message_id) if api else None
    except CredentialsRejected:
        fetched, retry_after = None, settings.catch_up_backoff_max_seconds
    except CarrierUnavailable as exc:
        fetched, retry_after = None, exc.retry_after or settings.catch_up_backoff_initial_seconds
    too_old = pending.sent_at < now - timedelta(seconds=settings.outbound_status_give_up_seconds)
    async with deps.sessions.begin() as session:
        if fetched is not None and fetched.is_final:
            key = f"{pending.carrier_message_id}:{fetched.status}"
            if await repo.claim_webhooks(session, pending.carrier, "status", [key]):
                event = status_event(fetched, pending.account_id, now)
                await deps.publisher.publish(CARRIER_STATUS, event, key=event.partition_key)
                deps.metrics.statuses_recovered.labels(pending.carrier).inc()
                log.warning(
                    "outbound status recovered from the carrier's API (its callback never came)",
                    carrier=pending.carrier,
                    carrier_message_id=pending.carrier_message_id,
                    status=fetched.status,
                )
            await repo.forget_outbound(session, pending.carrier, pending.carrier_message_id)
            return 1
        if too_old or (fetched is None and retry_after is None):
            # Too old, nothing to ask with, or the carrier does not know the text: nothing more
            # will come of asking again.
            log.warning(
                "outbound text left without a final status",
                carrier=pending.carrier,
                carrier_message_id=pending.carrier_message_id,
                too_old=too_old,
            )
            await repo.forget_outbound(session, pending.carrier, pending.carrier_message_id)
            return 0
        wait = backoff_seconds(
            pending.checks + 1,
            settings.outbound_status_after_seconds,
            max(settings.outbound_status_after_seconds, 3600.0),
            retry_after,
        )
        await repo.reschedule_outbound(session, pending.carrier, pending.carrier_message_id, wait)
    return 0
