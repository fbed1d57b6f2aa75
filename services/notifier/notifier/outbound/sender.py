"""Sends one outbound message: idempotent on its message id, held in quiet hours when asked,
rate limited per sending number, retried with backoff and jitter on temporary failures, and
every outcome reported."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from notifier.outbound import repository
from notifier.outbound.carriers.base import CarrierAdapter, CarrierError
from notifier.outbound.credentials import CarrierAdapters
from notifier.outbound.quiet_hours import customer_time_zone, hold_until
from notifier.outbound.rate_limit import SendingRateLimiter, Sleep
from notifier.outbound.settings import OutboundSettings
from notifier.outbound.statuses import StatusReporter
from shared.contracts.messaging import OutboundRequested

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]


def is_possible_phone(number: str) -> bool:
    """E.164 and of a possible length: anything else would only earn a carrier error."""
    try:
        return number.startswith("+") and phonenumbers.is_possible_number(phonenumbers.parse(number))
    except phonenumbers.NumberParseException:
        return False


def _is_temporary(exc: BaseException) -> bool:
    return isinstance(exc, CarrierError) and exc.retryable


@dataclass(frozen=True)
class SendOutcome:
    status: str
    carrier_message_id: str | None = None
    error: CarrierError | None = None
    attempts: int = 0


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
        self._backoff = wait_exponential_jitter(
            multiplier=settings.outbound_retry_initial_seconds,
            max=settings.outbound_retry_max_seconds,
            jitter=settings.outbound_retry_initial_seconds,
        )

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
        async with self._sessions.begin() as session:
            first_time = await repository.claim_message(
                session,
                request,
                "scheduled" if held else "sending",
                not_before=held,
                lease_until=None if held else self.lease_until(),
            )
        if not first_time:
            await self._redelivered(request)
            return
        if held:
            log.info(
                "outbound held for quiet hours", message_id=str(request.message_id), until=held.isoformat()
            )
            await self._statuses.report(request, "scheduled")
            return
        await self.send_claimed(request)

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

    async def send_claimed(self, request: OutboundRequested) -> SendOutcome:
        """Sends a message this replica has marked `sending`, and records and reports the outcome."""
        await self._statuses.report(request, "sending")
        outcome = await self._send(request)
        async with self._sessions.begin() as session:
            await repository.record_outcome(
                session,
                request.message_id,
                outcome.status,
                outcome.attempts,
                carrier_message_id=outcome.carrier_message_id,
                error_category=outcome.error.category if outcome.error else None,
                error_code=outcome.error.code if outcome.error else None,
                error_message=outcome.error.message if outcome.error else None,
            )
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

    async def _send(self, request: OutboundRequested) -> SendOutcome:
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
        attempts = 0
        try:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception(_is_temporary),
                stop=stop_after_attempt(self._settings.outbound_retry_attempts),
                wait=self._wait,
                sleep=self._sleep,
                reraise=True,
            ):
                with attempt:
                    attempts += 1
                    carrier_id = await self._attempt(adapter, request)
        except CarrierError as error:
            return SendOutcome("failed", error=error, attempts=attempts)
        return SendOutcome("sent", carrier_message_id=carrier_id, attempts=attempts)

    async def _attempt(self, adapter: CarrierAdapter, request: OutboundRequested) -> str:
        await self._limiter.acquire(request.from_number)
        try:
            return await adapter.send(
                request.from_number,
                request.to_number,
                request.body,
                [attachment.url for attachment in request.attachments],
                idempotency_key=str(request.message_id),
            )
        finally:
            await self._limiter.release(request.from_number)

    def _wait(self, state: RetryCallState) -> float:
        """Exponential backoff with jitter, never shorter than the carrier's Retry-After."""
        backoff = wait_exponential_jitter(
            initial=self._settings.outbound_retry_initial_seconds,
            max=self._settings.outbound_retry_max_seconds,
        )(state)
        error = state.outcome.exception() if state.outcome else None
        retry_after = error.retry_after if isinstance(error, CarrierError) and error.retry_after else 0.0
        return max(backoff, min(retry_after, self._settings.outbound_retry_max_seconds))
