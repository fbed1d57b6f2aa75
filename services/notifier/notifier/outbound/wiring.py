"""Wires outbound sending into the notifier process: consumers and background jobs."""

import asyncio
from dataclasses import dataclass

import httpx

from notifier.outbound.credentials import CarrierAdapters
from notifier.outbound.rate_limit import SendingRateLimiter, Sleep
from notifier.outbound.release import QuietHoursRelease
from notifier.outbound.sender import Clock, OutboundSender
from notifier.outbound.statuses import StatusReporter
from notifier.settings import NotifierSettings
from shared.contracts.base import utc_now
from shared.contracts.topics import SMS_OUTBOUND_REQUESTED
from shared.kafka.consumer import subscribe
from shared.service import BackgroundJob, Infrastructure

CONSUMER_GROUP = "notifier-outbound"


@dataclass
class OutboundSending:
    sender: OutboundSender
    release: QuietHoursRelease
    http: httpx.AsyncClient
    # The process's cached carrier adapters: the credentials API forgets an account's on change.
    adapters: CarrierAdapters

    def background_jobs(self) -> list[BackgroundJob]:
        return [self.release.run]


def build_outbound_sending(
    infra: Infrastructure,
    settings: NotifierSettings,
    clock: Clock = utc_now,
    sleep: Sleep = asyncio.sleep,
    http: httpx.AsyncClient | None = None,
) -> OutboundSending:
    http = http or httpx.AsyncClient(
        timeout=httpx.Timeout(
            settings.carrier_timeout_seconds, connect=min(5.0, settings.carrier_timeout_seconds)
        ),
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
    )
    adapters = CarrierAdapters(infra.sessions, http, settings)
    sender = OutboundSender(
        infra.sessions,
        adapters,
        SendingRateLimiter(infra.sessions, settings, sleep),
        StatusReporter(infra.publisher, clock),
        settings,
        clock,
        sleep,
    )
    return OutboundSending(sender, QuietHoursRelease(infra.sessions, sender, settings, clock), http, adapters)


def register_outbound_sending(infra: Infrastructure, settings: NotifierSettings) -> OutboundSending:
    """Subscribes the sender to `sms.outbound_requested.v1`; the process runs its background jobs."""
    sending = build_outbound_sending(infra, settings)
    # Keyed by sending number: one consumer owns a number at a time and sends its texts in order.
    subscribe(
        infra.broker,
        infra.publisher,
        settings,
        SMS_OUTBOUND_REQUESTED,
        CONSUMER_GROUP,
        sending.sender.handle,
        max_workers=settings.outbound_consumers,
    )
    return sending
