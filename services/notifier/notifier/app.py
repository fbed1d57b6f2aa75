"""Wires the notifier service."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
from fastapi import APIRouter, FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier.api.carrier_accounts import carrier_accounts_router
from notifier.api.live import live_router
from notifier.api.notifications import notifications_router
from notifier.api.preferences import preferences_router
from notifier.api.recipients import recipients_router
from notifier.consumers.access import register_access_consumers
from notifier.consumers.conversations import register_conversation_consumers
from notifier.consumers.live import pruning_job, register_live_consumers
from notifier.email.directory import UserDirectory
from notifier.email.render import EmailRenderer
from notifier.email.smtp import SmtpSender
from notifier.email.worker import EmailWorker
from notifier.live import LiveHub
from notifier.outbound.wiring import register_outbound_sending
from notifier.production_checks import refuse_demo_credentials
from notifier.settings import NotifierSettings
from notifier.suspension import register_suspension_consumers, suspended_accounts
from notifier.usage.consumers import register_usage_consumers
from notifier.usage.repository import USAGE_DESCRIBED, usage_reader
from shared.contracts.topics import SMS_OUTBOUND_STATUS
from shared.http.staff import CurrentStaffAuthenticated, RoutingStaffDirectory
from shared.http.suspension import SuspendedAccounts
from shared.http.usage import usage_router
from shared.production import PRODUCTION
from shared.service import BackgroundJob, Infrastructure, build_app, build_infrastructure

# How long routing's word on a caller's role and activity is trusted by the admin endpoints.
STAFF_CHECK_SECONDS = 5.0
# How stale this replica's set of suspended dealerships may be (the one whose consumer applied a
# change sees it at once).
SUSPENSIONS_REFRESH_SECONDS = 2.0


@dataclass
class NotificationsPart:
    """What telling staff adds to the process: routes, background jobs, clean-up."""

    routers: list[APIRouter]
    background_jobs: list[BackgroundJob]
    on_shutdown: list[Callable[[], Awaitable[None]]]
    hub: LiveHub
    emails: EmailWorker
    # Staff tokens checked against routing, which says who is staff (and an admin) now.
    current_staff: CurrentStaffAuthenticated
    # The dealerships suspended now (notifier's projection): their staff are refused.
    suspended: SuspendedAccounts


def api_routers(
    settings: NotifierSettings,
    sessions: async_sessionmaker[AsyncSession],
    hub: LiveHub,
    directory: UserDirectory,
    current_staff: CurrentStaffAuthenticated,
    suspended: SuspendedAccounts | None = None,
) -> list[APIRouter]:
    """The staff API, the same in the service and in the tests."""
    return [
        notifications_router(settings, sessions, hub, directory, suspended),
        live_router(settings, sessions, hub, directory, suspended),
        preferences_router(settings, sessions, suspended),
        recipients_router(sessions, current_staff, directory),
    ]


def wire_notifications(infra: Infrastructure, settings: NotifierSettings) -> NotificationsPart:
    """Consumers of the events staff are told about and of the account's live feed, the live
    hub, the e-mail worker."""
    hub = LiveHub(settings.database_url, settings.live_channel)
    http = httpx.AsyncClient(timeout=httpx.Timeout(5.0))
    directory = UserDirectory(settings, settings.routing_url, http, settings.user_cache_seconds)
    emails = EmailWorker(
        infra.sessions, settings, directory, EmailRenderer(settings.app_base_url), SmtpSender(settings)
    )
    current_staff = CurrentStaffAuthenticated(
        settings,
        RoutingStaffDirectory(settings, http, settings.routing_url),
        cache_seconds=STAFF_CHECK_SECONDS,
    )
    register_conversation_consumers(infra, settings, on_email_queued=emails.wake)
    register_access_consumers(infra, settings, on_email_queued=emails.wake)
    suspended = suspended_accounts(infra.sessions, SUSPENSIONS_REFRESH_SECONDS)
    register_suspension_consumers(infra, settings, on_change=suspended.forget)
    register_live_consumers(infra, settings)
    return NotificationsPart(
        routers=api_routers(settings, infra.sessions, hub, directory, current_staff, suspended),
        background_jobs=[hub.run, emails.run, pruning_job(infra.sessions, settings)],
        on_shutdown=[http.aclose],
        hub=hub,
        emails=emails,
        current_staff=current_staff,
        suspended=suspended,
    )


def create_app(settings: NotifierSettings) -> FastAPI:
    infra = build_infrastructure(settings)
    notifications = wire_notifications(infra, settings)
    outbound = register_outbound_sending(infra, settings)
    register_usage_consumers(infra, settings)
    return build_app(
        infra,
        title="Switchboard notifier",
        description="Notifications for staff: in-app feed, live server-sent events, e-mail; "
        "outbound SMS through the carriers.",
        publishes=[SMS_OUTBOUND_STATUS],
        routers=[
            *notifications.routers,
            carrier_accounts_router(infra.sessions, notifications.current_staff, outbound.adapters),
            usage_router(settings, usage_reader(infra.sessions), USAGE_DESCRIBED),
        ],
        background_jobs=[*notifications.background_jobs, *outbound.background_jobs()],
        on_shutdown=[*notifications.on_shutdown, outbound.http.aclose],
        preflight=[lambda: refuse_demo_credentials(infra.sessions)]
        if settings.environment == PRODUCTION
        else [],
    )
