from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from routing import queries
from shared.http.auth import Authenticated, Principal
from shared.http.errors import ApiError


class ConversationSummary(BaseModel):
    id: UUID
    customer_id: UUID
    status: str
    customer_name: str | None
    customer_phone: str | None
    assignee_user_id: UUID | None
    assignee_team_id: UUID | None
    last_activity_at: datetime


class MessageView(BaseModel):
    id: UUID
    direction: str
    body: str
    attachments: list[dict]
    sender_user_id: UUID | None
    source_kind: str
    status: str
    error_category: str | None
    created_at: datetime


def conversations_router(sessions: async_sessionmaker[AsyncSession], auth: Authenticated) -> APIRouter:
    router = APIRouter(prefix="/api/v1/conversations", tags=["conversations"])
    Caller = Annotated[Principal, Depends(auth)]

    @router.get("", response_model=list[ConversationSummary], summary="Conversations, latest activity first")
    async def list_conversations(caller: Caller, limit: int = Query(50, ge=1, le=200)) -> list[dict]:
        async with sessions() as session:
            rows = await queries.list_conversations(session, caller.account_id, limit)
        for row in rows:
            name = " ".join(p for p in (row["first_name"], row["last_name"]) if p)
            row["customer_name"] = name or None
        return rows

    @router.get("/{conversation_id}/messages", response_model=list[MessageView], summary="Messages in order")
    async def list_messages(
        conversation_id: UUID, caller: Caller, limit: int = Query(100, ge=1, le=500)
    ) -> list[dict]:
        async with sessions() as session:
            rows = await queries.conversation_messages(session, caller.account_id, conversation_id, limit)
        if rows is None:
            raise ApiError(404, "not_found", "conversation not found")
        return rows

    return router
