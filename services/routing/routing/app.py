"""Wires the routing service."""

from fastapi import FastAPI

from routing.api.auth import auth_router
from routing.api.conversations import conversations_router
from routing.consumers.carrier import register_carrier_consumers
from routing.outbox import OutboxRelay
from routing.settings import RoutingSettings
from shared.http.auth import Authenticated
from shared.service import build_app, build_infrastructure


def create_app(settings: RoutingSettings) -> FastAPI:
    infra = build_infrastructure(settings)
    relay = OutboxRelay(
        infra.sessions,
        infra.publisher,
        settings.outbox_batch_size,
        settings.outbox_idle_poll_seconds,
    )
    register_carrier_consumers(infra, settings, infra.sessions, relay)
    auth = Authenticated(settings)
    return build_app(
        infra,
        title="Switchboard routing",
        description="Dealerships, staff, customers and conversations: the staff inbox API.",
        routers=[
            auth_router(settings, infra.sessions),
            conversations_router(infra.sessions, auth, on_events=relay.wake),
        ],
        background_jobs=[relay.run],
    )
