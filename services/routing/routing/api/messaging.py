"""Sending: replies, starting a conversation from a source, what a source reached."""

from collections.abc import Callable

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from routing.settings import RoutingSettings
from shared.http.auth import Authenticated


def messaging_router(
    settings: RoutingSettings,
    sessions: async_sessionmaker[AsyncSession],
    auth: Authenticated,
    on_events: Callable[[], None] = lambda: None,
) -> APIRouter:
    return APIRouter(prefix="/api/v1", tags=["messaging"])
