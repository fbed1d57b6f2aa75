"""Admin-only: staff, teams, the dealership's numbers and its settings."""

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from routing.settings import RoutingSettings
from shared.http.auth import Authenticated


def admin_router(
    settings: RoutingSettings, sessions: async_sessionmaker[AsyncSession], auth: Authenticated
) -> APIRouter:
    return APIRouter(prefix="/api/v1", tags=["admin"])
