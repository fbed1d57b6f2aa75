"""Wires the routing service."""

from collections.abc import Callable

from fastapi import APIRouter, FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from routing.admin.routes import admin_router
from routing.appointments.routes import appointments_router
from routing.auth.routes import auth_router
from routing.auth.throttle import LoginThrottle, ThrottlePolicy
from routing.conversations.counters import CounterSettler
from routing.conversations.routes import conversations_router
from routing.customers.routes import customers_router
from routing.dms.consumers import register_dms_consumers
from routing.invitations.routes import invitations_router
from routing.messaging.consumers import register_carrier_consumers, register_messaging_consumers
from routing.messaging.routes import messaging_router
from routing.outbox import OutboxRelay
from routing.platform.routes import platform_router
from routing.saved_replies.routes import saved_replies_router
from routing.settings import RoutingSettings
from routing.staff_auth import StaffAuthenticated
from routing.sweeper import AutoCloseSweeper
from shared.contracts.topics import (
    CONVERSATION_ASSIGNED,
    CONVERSATION_MERGED,
    CONVERSATION_NOTE_ADDED,
    CONVERSATION_READ,
    CONVERSATION_STATUS_CHANGED,
    CUSTOMER_CHANGED,
    DEALERSHIP_PROVISIONED,
    DEALERSHIP_RESUMED,
    DEALERSHIP_SUSPENDED,
    MESSAGE_DELIVERY_FAILED,
    MESSAGE_RECEIVED,
    MESSAGE_SENT,
    MESSAGE_STATUS_CHANGED,
    PHONE_NUMBER_CHANGED,
    SMS_OUTBOUND_REQUESTED,
    STAFF_INVITATION_SENT,
    STAFF_PASSWORD_RESET_REQUESTED,
)
from shared.service import build_app, build_infrastructure


def api_routers(
    settings: RoutingSettings,
    sessions: async_sessionmaker[AsyncSession],
    on_events: Callable[[], None] = lambda: None,
) -> list[APIRouter]:
    """The staff API and the operator API, the same in the service and in the tests."""
    auth = StaffAuthenticated(settings, sessions)
    return [
        auth_router(settings, sessions, auth, LoginThrottle(ThrottlePolicy.of(settings))),
        conversations_router(sessions, auth, on_events=on_events),
        messaging_router(settings, sessions, auth, on_events=on_events),
        customers_router(settings, sessions, auth),
        saved_replies_router(sessions, auth),
        admin_router(settings, sessions, auth),
        appointments_router(sessions, auth),
        invitations_router(settings, sessions, auth, on_events=on_events),
        platform_router(settings, sessions, on_events=on_events),
    ]


def create_app(settings: RoutingSettings) -> FastAPI:
    infra = build_infrastructure(settings)
    relay = OutboxRelay(
        infra.sessions,
        infra.publisher,
        settings.outbox_batch_size,
        settings.outbox_idle_poll_seconds,
        settings.outbox_gather_seconds,
    )
    register_carrier_consumers(infra, settings, infra.sessions, relay)
    register_messaging_consumers(infra, settings, infra.sessions, relay)
    register_dms_consumers(infra, settings, infra.sessions, relay)
    sweeper = AutoCloseSweeper(infra.sessions, settings, on_events=relay.wake)
    settler = CounterSettler(infra.sessions, settings.counters_settle_interval_seconds)
    return build_app(
        infra,
        title="Switchboard routing",
        description="Dealerships, staff, customers and conversations: the staff inbox API.",
        publishes=[
            MESSAGE_RECEIVED,
            MESSAGE_SENT,
            MESSAGE_DELIVERY_FAILED,
            MESSAGE_STATUS_CHANGED,
            CONVERSATION_ASSIGNED,
            CONVERSATION_NOTE_ADDED,
            CONVERSATION_STATUS_CHANGED,
            CONVERSATION_READ,
            CUSTOMER_CHANGED,
            CONVERSATION_MERGED,
            SMS_OUTBOUND_REQUESTED,
            PHONE_NUMBER_CHANGED,
            STAFF_INVITATION_SENT,
            STAFF_PASSWORD_RESET_REQUESTED,
            DEALERSHIP_PROVISIONED,
            DEALERSHIP_SUSPENDED,
            DEALERSHIP_RESUMED,
        ],
        routers=api_routers(settings, infra.sessions, on_events=relay.wake),
        background_jobs=[relay.run, sweeper.run, settler.run],
    )
