"""Customers: profiles, typed phone numbers in E.164, internal profile notes."""

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from routing.settings import RoutingSettings
from shared.http.auth import Authenticated


def customers_router(
    settings: RoutingSettings, sessions: async_sessionmaker[AsyncSession], auth: Authenticated
) -> APIRouter:
    return APIRouter(prefix="/api/v1/customers", tags=["customers"])
