"""Sends one outbound message: idempotent on its message id, held in quiet hours when asked,
rate limited per sending number, retried with backoff and jitter on temporary failures, and
every outcome reported.

A text may only go once. A retry is free when the carrier surely created nothing (no connection,
429, a refusal) or dedupes on our idempotency key (Telnyx). When an attempt may have reached a
carrier that does not dedupe (Twilio: read timeout, dropped connection, 5xx), the carrier is asked
first whether it holds the text; if it cannot tell us, the message is recorded failed rather than
risk texting the customer twice. The sender holds the message under a lease token, renewed before
each attempt; once another replica holds it, this one neither calls the carrier nor records."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import phonenumbers
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    stop_all,
    wait_exponential_jitter,
)

from notifier.outbound import repository
from notifier.outbound.carriers.base import CarrierAdapter, CarrierError, SentMessageLookup
from notifier.outbound.credentials import CarrierAdapters
from notifier.outbound.quiet_hours import customer_time_zone, hold_until
from notifier.outbound.rate_limit import SendingRateLimiter, Sleep
from notifier.outbound.settings import OutboundSettings
from notifier.outbound.statuses import StatusReporter
from notifier.suspension import is_suspended
from shared.contracts.messaging import OutboundRequested

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]

# How far behind ours the carrier's clock may be when we look for a text we may have sent.
_CARRIER_CLOCK_SKEW = timedelta(minutes=2)


def is_possible_phone(number: str) -> bool:
    """E.164 and of a possible length: anything else would only earn a carrier error."""
    try:
        return number.startswith("+") and phonenumbers.is_possible_number(phonenumbers.parse(number))
    except phonenumbers.NumberParseException:
        return False


def _is_temporary(exc: BaseException) -> bool:
    return isinstance(exc, CarrierError) and exc.retryable


class LeaseLost(Exception):
    """Our lease on the message ran out and another sender took it: it sends and records it."""


@dataclass(frozen=True)
class SendOutcome:
    status: str
    carrier_message_id: str | None = None
    error: CarrierError | None = None
    attempts: int = 0


@dataclass
class _Progress:
    """What the attempts at one message learnt so far."""

    posts: int = 0
    # Set (to the first such attempt's time) once an attempt may have created the message.
    unsure_since: datetime | None = None
    unsure_because: str | None = None


def _outcome_unknown(carrier: str, because: str | None, lookup: CarrierError) -> CarrierError:
    return CarrierError(
        f"{carrier} may have accepted this text ({because}) and could not be asked whether it did"
        f" ({lookup.message}); not sent again so that the customer never gets it twice",
        category="unknown",
        retryable=False,
        code="outcome_unknown",
    )


class OutboundSender:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        adapters: CarrierAdapters,
        limiter: SendingRateLimiter,
        statuses: StatusReporter,
        settings: OutboundSettings,
        clock: Clock,
        sleep: Sleep,
    ) -> None:
        self._sessions = sessions
        self._adapters = adapters
        self._limiter = limiter
        self._statuses = statuses
        self._settings = settings
        self._clock = clock
        self._sleep = sleep

    def held_until(self, request: OutboundRequested) -> datetime | None:
        """When an automated text must wait for the customer's daytime; staff replies never wait."""
        if not request.respect_quiet_hours or request.source_kind == "manual":
            return None
        zone = customer_time_zone(request.to_number, request.account_time_zone)
        return hold_until(
            self._clock(), zone, self._settings.quiet_hours_start, self._settings.quiet_hours_end
        )

    def lease_until(self) -> datetime:
        return self._clock() + timedelta(seconds=self._settings.outbound_send_lease_seconds)

    async def handle(self, request: OutboundRequested) -> None:
        """The `sms.outbound_requested.v1` handler."""
        held = self.held_until(request)
        token = uuid4()
        async with self._sessions.begin() as session:
            if await is_suspended(session, request.account_id):
                # Held, not dropped: due at once, the release job sends it when the dealership
                # resumes (it skips suspended dealerships' texts until then).
                held = held or self._clock()
            first_time = await repository.claim_message(
                session,
                request,
                "scheduled" if held else "sending",
                not_before=held,
                lease_until=None if held else self.lease_until(),
                lease_token=None if held else token,
            )
        if not first_time:
            await self._redelivered(request)
            return
        if held:
            log.info("outbound held", message_id=str(request.message_id), until=held.isoformat())
            await self._statuses.report(request, "scheduled")
            return
        await self.send_claimed(request, token)

    async def _redelivered(self, request: OutboundRequested) -> None:
        """Never sent again. A settled outcome is announced again, since the first announcement may
        be the very thing that failed; one still `sending` belongs to whoever is sending it (or to
        the release job once its lease runs out)."""
        async with self._sessions() as session:
            stored = await repository.load_message(session, request.message_id)
        log.info("outbound redelivered", message_id=str(request.message_id), status=stored and stored.status)
        if stored is None or stored.status == "sending":
            return
        await self._statuses.report(
            stored.request,
            stored.status,
            carrier_message_id=stored.carrier_message_id,
            error_category=stored.error_category,
            error_code=stored.error_code,
            error_message=stored.error_message,
        )

    async def send_claimed(
        self, request: OutboundRequested, lease_token: UUID, unsure_since: datetime | None = None
    ) -> SendOutcome | None:
        """Sends a message this replica leased (`sending` under `lease_token`), and records and
        reports the outcome; None when the lease was lost to another replica meanwhile.
        `unsure_since`: an earlier sender may have reached the carrier from then on."""
        try:
            await self._statuses.report(request, "sending")
        except Exception as exc:
            # Only news for the timeline ("sent" follows): with the broker just back or still
            # away, failing here would leave the text leased and unsent until the lease ran out.
            log.warning(
                "outbound 'sending' not announced; sending anyway",
                message_id=str(request.message_id),
                reason=f"{type(exc).__name__}: {exc}"[:300],
            )
        try:
            outcome = await self._send(request, lease_token, unsure_since)
        except LeaseLost:
            log.warning(
                "outbound lease lost before sending; another replica has it",
                message_id=str(request.message_id),
            )
            return None
        async with self._sessions.begin() as session:
            recorded = await repository.record_outcome(
                session,
                request.message_id,
                lease_token,
                outcome.status,
                outcome.attempts,
                carrier_message_id=outcome.carrier_message_id,
                error_category=outcome.error.category if outcome.error else None,
                error_code=outcome.error.code if outcome.error else None,
                error_message=outcome.error.message if outcome.error else None,
            )
        if not recorded:
            log.warning(
                "outbound lease lost while sending; outcome not recorded",
                message_id=str(request.message_id),
                status=outcome.status,
                carrier_message_id=outcome.carrier_message_id,
            )
            return None
        if outcome.error:
            log.info(
                "outbound failed",
                message_id=str(request.message_id),
                category=outcome.error.category,
                code=outcome.error.code,
                attempts=outcome.attempts,
            )
            await self._statuses.report(
                request,
                "failed",
                error_category=outcome.error.category,
                error_code=outcome.error.code,
                error_message=outcome.error.message,
            )
        else:
            await self._statuses.report(request, "sent", carrier_message_id=outcome.carrier_message_id)
        return outcome

    async def _send(
        self, request: OutboundRequested, lease_token: UUID, unsure_since: datetime | None
    ) -> SendOutcome:
        if not is_possible_phone(request.to_number):
            error = CarrierError(
                "not a phone number a text can go to",
                category="wrong_number",
                retryable=False,
                code="invalid_number",
            )
            return SendOutcome("failed", error=error)
        adapter = await self._adapters.for_account(request.account_id, request.carrier)
        if adapter is None:
            error = CarrierError(
                f"no {request.carrier} credentials for this account",
                category="unknown",
                retryable=False,
                code="no_credentials",
            )
            return SendOutcome("failed", error=error)
        progress = _Progress(
            unsure_since=unsure_since,
            unsure_because="an earlier sender's lease ran out mid-send" if unsure_since else None,
        )
        try:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception(_is_temporary),
                # Both spent: the attempts, and the time a carrier's outage is waited out.
                stop=stop_all(
                    stop_after_attempt(self._settings.outbound_retry_attempts),
                    stop_after_delay(self._settings.outbound_retry_seconds),
                ),
                wait=self._wait,
                sleep=self._sleep,
                reraise=True,
            ):
                with attempt:
                    carrier_id = await self._attempt(adapter, request, lease_token, progress)
        except CarrierError as error:
            if error.ambiguous and not adapter.honours_idempotency_key:
                # The retries ran out on an answer that may hide an accepted text: one last look.
                try:
                    found = await self._accepted_earlier(adapter, request, progress)
                except CarrierError as lookup_error:
                    error = lookup_error
                else:
                    if found:
                        return SendOutcome("sent", carrier_message_id=found, attempts=progress.posts)
            return SendOutcome("failed", error=error, attempts=progress.posts)
        return SendOutcome("sent", carrier_message_id=carrier_id, attempts=progress.posts)

    async def _attempt(
        self, adapter: CarrierAdapter, request: OutboundRequested, lease_token: UUID, progress: _Progress
    ) -> str:
        if progress.unsure_since and not adapter.honours_idempotency_key:
            found = await self._accepted_earlier(adapter, request, progress)
            if found:
                return found
        await self._limiter.acquire(request.from_number)
        try:
            # Right before the carrier call: still ours? (and ours for a whole lease from now)
            async with self._sessions.begin() as session:
                if not await repository.renew_lease(
                    session, request.message_id, lease_token, self.lease_until()
                ):
                    raise LeaseLost(str(request.message_id))
            progress.posts += 1
            # The carrier's clock, not ours (which tests may set), dates what it accepted.
            posted_at = datetime.now(UTC)
            try:
                return await adapter.send(
                    request.from_number,
                    request.to_number,
                    request.body,
                    [attachment.url for attachment in request.attachments],
                    idempotency_key=str(request.message_id),
                )
            except CarrierError as error:
                if error.ambiguous and progress.unsure_since is None:
                    progress.unsure_since, progress.unsure_because = posted_at, error.message
                raise
        finally:
            await self._limiter.release(request.from_number)

    async def _accepted_earlier(
        self, adapter: CarrierAdapter, request: OutboundRequested, progress: _Progress
    ) -> str | None:
        """The carrier's id of this text if an earlier attempt created it; raises a final
        `outcome_unknown` CarrierError when the carrier cannot tell."""
        assert progress.unsure_since is not None
        lookup: SentMessageLookup = adapter  # type: ignore[assignment]  # carriers without keys have it
        try:
            candidates = await lookup.accepted_since(
                request.from_number,
                request.to_number,
                request.body,
                progress.unsure_since - _CARRIER_CLOCK_SKEW,
            )
        except CarrierError as error:
            raise _outcome_unknown(request.carrier, progress.unsure_because, error) from error
        # The same words to the same customer a minute earlier are another message of ours.
        async with self._sessions() as session:
            taken = await repository.carrier_ids_in_use(session, request.carrier, candidates)
        found = next((carrier_id for carrier_id in candidates if carrier_id not in taken), None)
        log.info(
            "outbound looked up after an unclear answer",
            message_id=str(request.message_id),
            found=found,
            because=progress.unsure_because,
        )
        return found

    def _wait(self, state: RetryCallState) -> float:
        """Exponential backoff with jitter, never shorter than the carrier's Retry-After."""
        backoff = wait_exponential_jitter(
            multiplier=self._settings.outbound_retry_initial_seconds,
            max=self._settings.outbound_retry_max_seconds,
        )(state)
        error = state.outcome.exception() if state.outcome else None
        retry_after = error.retry_after if isinstance(error, CarrierError) and error.retry_after else 0.0
        return max(backoff, min(retry_after, self._settings.outbound_retry_max_seconds))
