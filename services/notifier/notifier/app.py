"""Wires the notifier service."""

from fastapi import FastAPI

from notifier.api.notifications import notifications_router
from notifier.consumers.conversations import register_conversation_consumers
from notifier.live import LiveHub
from notifier.outbound.wiring import register_outbound_sending
from notifier.settings import NotifierSettings
from shared.service import build_app, build_infrastructure


def create_app(settings: NotifierSettings) -> FastAPI:
    infra = build_infrastructure(settings)
    hub = LiveHub(settings.database_url, settings.live_channel)
    register_conversation_consumers(infra, settings)
    outbound_jobs = register_outbound_sending(infra, settings)
    return build_app(
        infra,
        title="Switchboard notifier",
        description="Notifications for staff: in-app feed, live server-sent events, e-mail; "
        "outbound SMS through the carriers.",
        routers=[notifications_router(settings, infra.sessions, hub)],
        background_jobs=[hub.run, *outbound_jobs],
    )
