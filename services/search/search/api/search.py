from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from search import repository
from shared.http.auth import Authenticated, Principal


def search_router(sessions: async_sessionmaker[AsyncSession], auth: Authenticated) -> APIRouter:
    router = APIRouter(prefix="/api/v1/search", tags=["search"])
    Caller = Annotated[Principal, Depends(auth)]

    @router.get("", summary="Search the caller's account")
    async def search(
        caller: Caller,
        q: str = Query(min_length=1, max_length=200),
        limit: int = Query(20, ge=1, le=100),
    ) -> dict:
        async with sessions() as session:
            messages = await repository.search_messages(session, caller.account_id, q, limit)
        return {"messages": messages}

    return router
