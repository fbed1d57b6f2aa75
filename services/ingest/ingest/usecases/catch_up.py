"""Catch-up of inbound texts: for each dealership number due, list what customers sent since its
checkpoint (minus an overlap) through the carrier's API, and publish each text not seen yet
exactly as a webhook would (the same claim in `received_webhooks`: a text that arrives both ways
is one message, counted once for billing by whichever claimed it). The checkpoint moves only once
Kafka acknowledged every text listed; a failure of any kind leaves it where it was, so the next
attempt lists the same texts again.

A carrier answering 429 / 5xx / nothing, or refusing the credentials, is recorded on the number
(`last_error`, shown on the dealership's carrier settings) with a back-off; nothing raises out of
a cycle, so a broken dealership never takes catch-up down for the others."""

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

import structlog
from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ingest import catch_up_repository as repo
from ingest import repository
from ingest.carriers.apis import CarrierApis
from ingest.carriers.errors import CarrierUnavailable, CredentialsRejected
from ingest.catch_up_metrics import CatchUpMetrics
from ingest.domain.catch_up import ListedText, backoff_seconds, in_send_order, inbound_event, listing_start
from ingest.settings import IngestSettings
from ingest.usage_repository import count_texts_in
from shared.contracts.carrier import RejectedInput
from shared.contracts.topics import CARRIER_INBOUND, CARRIER_REJECTED
from shared.kafka.broker import EventPublisher, PublishFailed

log = structlog.get_logger(__name__)
# Texts claimed and published per transaction: one Kafka round trip per batch.
BATCH = 500


@dataclass(frozen=True)
class CatchUpDeps:
    sessions: async_sessionmaker[AsyncSession]
    publisher: EventPublisher
    apis: CarrierApis
    settings: IngestSettings
    metrics: CatchUpMetrics


@dataclass
class NumberOutcome:
    e164: str
    carrier: str
    listed: int = 0
    recovered: int = 0
    rejected: int = 0
    error: str | None = None


@dataclass
class CycleReport:
    numbers: list[NumberOutcome] = field(default_factory=list)

    def recovered(self, carrier: str) -> int:
        return sum(n.recovered for n in self.numbers if n.carrier == carrier)


async def run_inbound_cycle(deps: CatchUpDeps) -> CycleReport:
    """One pass over the numbers due now (at most `catch_up_numbers_per_cycle` of them)."""
    settings = deps.settings
    async with deps.sessions.begin() as session:
        due = await repo.claim_due_numbers(
            session, settings.catch_up_lease_seconds, settings.catch_up_numbers_per_cycle
        )
    # A few numbers at once: each mostly waits on its carrier.
    gate = asyncio.Semaphore(8)

    async def one(number: repo.DueNumber) -> NumberOutcome:
        async with gate:
            return await catch_up_number(deps, number)

    return CycleReport(list(await asyncio.gather(*(one(number) for number in due))))


async def catch_up_number(deps: CatchUpDeps, number: repo.DueNumber) -> NumberOutcome:
    settings, metrics = deps.settings, deps.metrics
    outcome = NumberOutcome(number.e164, number.carrier)
    started = datetime.now(UTC)
    kind, retry_after = "", None
    try:
        async with deps.sessions() as session:
            api = await deps.apis.for_account(session, number.account_id, number.carrier)
        if api is None:
            kind, outcome.error = "no_credentials", f"no {number.carrier} API credentials to list texts with"
        else:
            since = listing_start(
                number.checkpoint,
                started,
                settings.catch_up_overlap_seconds,
                settings.catch_up_initial_lookback_seconds,
            )
            listed = [t async for t in api.inbound_since(number.e164, since, settings.catch_up_page_size)]
            # Twilio lists newest first, Telnyx's detail records oldest first.
            texts = in_send_order(listed, listed_newest_first=number.carrier == "twilio")
            outcome.listed = len(texts)
            for start in range(0, len(texts), BATCH):
                recovered, rejected = await _publish(deps, number, texts[start : start + BATCH])
                outcome.recovered += recovered
                outcome.rejected += rejected
    except CredentialsRejected as exc:
        kind, outcome.error = "credentials_rejected", str(exc)
    except CarrierUnavailable as exc:
        kind, outcome.error, retry_after = "unavailable", str(exc), exc.retry_after
    except PublishFailed as exc:
        kind, outcome.error = "kafka", f"Kafka did not acknowledge: {exc}"
    except Exception as exc:  # the database, mostly: the lease runs out and another try comes
        log.warning("catch-up of a number failed", e164=number.e164, error=repr(exc))
        metrics.failures.labels(number.carrier, "database").inc()
        outcome.error = repr(exc)
        return outcome
    if outcome.recovered:
        metrics.texts_recovered.labels(number.carrier).inc(outcome.recovered)
    if outcome.rejected:
        metrics.rejected.labels(number.carrier).inc(outcome.rejected)
    async with deps.sessions.begin() as session:
        if outcome.error is None:
            await repo.record_success(session, number.e164, started, settings.catch_up_interval_seconds)
        else:
            metrics.failures.labels(number.carrier, kind).inc()
            # Credentials are not fixed by waiting: the longest back-off until an admin acts.
            failures = 99 if kind in ("credentials_rejected", "no_credentials") else number.failures + 1
            wait = backoff_seconds(
                failures,
                settings.catch_up_backoff_initial_seconds,
                settings.catch_up_backoff_max_seconds,
                retry_after,
            )
            await repo.record_failure(session, number.e164, outcome.error, wait)
            log.warning(
                "catch-up failed; trying again later",
                e164=number.e164,
                carrier=number.carrier,
                kind=kind,
                error=outcome.error,
                retry_in_seconds=round(wait, 1),
            )
    return outcome


async def _publish(deps: CatchUpDeps, number: repo.DueNumber, texts: list[ListedText]) -> tuple[int, int]:
    """Claims the texts not seen yet and publishes them, in one transaction: the claims commit only
    once Kafka acknowledged every record, exactly like a webhook's."""
    records, rejections, texts_in = [], [], []
    async with deps.sessions.begin() as session:
        fresh = await repo.claim_webhooks(session, number.carrier, "sms", [t.message_id for t in texts])
        for listed in texts:
            if listed.message_id not in fresh:
                continue
            fresh.discard(listed.message_id)  # a text listed twice in one answer goes once
            owner = await _owner(session, listed.to_number, number)
            if owner != number.account_id:
                reason = (
                    f"listed by catch-up for {number.e164}, but {listed.to_number} is no longer a number"
                    f" of account {number.account_id}"
                )
                payload = inbound_event(listed, number.account_id).model_dump_json()
                await repository.record_rejected(
                    session, f"{number.carrier}.catch_up", reason, payload, number.account_id
                )
                rejections.append(
                    RejectedInput(
                        source=f"{number.carrier}.catch_up",
                        reason=reason,
                        received_at=datetime.now(UTC),
                        account_id=str(number.account_id),
                        payload=payload,
                    )
                )
                continue
            event = inbound_event(listed, number.account_id)
            texts_in.append(event)
            records.append((CARRIER_INBOUND, event.to_bytes(), event.partition_key, {}))
        # Counted for billing in the claims' transaction, like a webhook's text: only if it commits.
        await count_texts_in(session, texts_in)
        records += [
            (CARRIER_REJECTED, r.model_dump_json().encode(), f"{number.carrier}.catch_up", {})
            for r in rejections
        ]
        await deps.publisher.publish_in_order(records)
    return len(records) - len(rejections), len(rejections)


async def _owner(session: AsyncSession, to_number: str, number: repo.DueNumber) -> UUID | None:
    """Whose the number is now: routing may have removed or moved it since the cycle took it."""
    return await repo.number_owner(session, to_number) if to_number else None


async def refresh_gauges(deps: CatchUpDeps) -> None:
    """The checkpoints' age and the failing numbers, per carrier, for /metrics."""
    async with deps.sessions() as session:
        rows = await session.execute(
            sql(
                "SELECT carrier, extract(epoch FROM now() - min(coalesce(checkpoint, created_at))) AS age,"
                " count(*) FILTER (WHERE last_error IS NOT NULL) AS failing"
                " FROM ingest.catch_up_numbers GROUP BY carrier"
            )
        )
        for row in rows:
            deps.metrics.checkpoint_age.labels(row.carrier).set(float(row.age or 0))
            deps.metrics.numbers_failing.labels(row.carrier).set(row.failing)
