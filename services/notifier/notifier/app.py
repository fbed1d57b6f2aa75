"""Wires the notifier service."""

import httpx
from fastapi import APIRouter, FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier.api.notifications import notifications_router
from notifier.api.preferences import preferences_router
from notifier.api.recipients import recipients_router
from notifier.consumers.conversations import register_conversation_consumers
from notifier.email.directory import UserDirectory
from notifier.email.render import EmailRenderer
from notifier.email.smtp import SmtpSender
from notifier.email.worker import EmailWorker
from notifier.live import LiveHub
from notifier.outbound.wiring import register_outbound_sending
from notifier.settings import NotifierSettings
from shared.service import build_app, build_infrastructure


def api_routers(
    settings: NotifierSettings,
    sessions: async_sessionmaker[AsyncSession],
    hub: LiveHub,
    directory: UserDirectory,
) -> list[APIRouter]:
    """The staff API, the same in the service and in the tests."""
    return [
        notifications_router(settings, sessions, hub),
        preferences_router(settings, sessions),
        recipients_router(settings, sessions, directory),
    ]


def create_app(settings: NotifierSettings) -> FastAPI:
    infra = build_infrastructure(settings)
    hub = LiveHub(settings.database_url, settings.live_channel)
    http = httpx.AsyncClient(timeout=httpx.Timeout(5.0))
    directory = UserDirectory(settings, settings.routing_url, http, settings.user_cache_seconds)
    emails = EmailWorker(
        infra.sessions, settings, directory, EmailRenderer(settings.app_base_url), SmtpSender(settings)
    )
    register_conversation_consumers(infra, settings, on_email_queued=emails.wake)
    outbound_jobs = register_outbound_sending(infra, settings)
    return build_app(
        infra,
        title="Switchboard notifier",
        description="Notifications for staff: in-app feed, live server-sent events, e-mail; "
        "outbound SMS through the carriers.",
        routers=api_routers(settings, infra.sessions, hub, directory),
        background_jobs=[hub.run, emails.run, *outbound_jobs],
        on_shutdown=[http.aclose],
    )
