"""Saved replies: the account's reusable texts with placeholders."""

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.http.auth import Authenticated


def saved_replies_router(sessions: async_sessionmaker[AsyncSession], auth: Authenticated) -> APIRouter:
    return APIRouter(prefix="/api/v1/saved-replies", tags=["saved replies"])
