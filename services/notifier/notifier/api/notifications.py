import asyncio
import json
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sse_starlette import EventSourceResponse

from notifier import repository
from notifier.live import LiveHub
from notifier.settings import NotifierSettings
from shared.http.auth import Authenticated, Principal


def notifications_router(
    settings: NotifierSettings, sessions: async_sessionmaker[AsyncSession], hub: LiveHub
) -> APIRouter:
    router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])
    Caller = Annotated[Principal, Depends(Authenticated(settings))]
    StreamCaller = Annotated[Principal, Depends(Authenticated(settings, allow_query_token=True))]

    @router.get("", summary="The caller's notifications, newest first")
    async def feed(caller: Caller, limit: int = Query(50, ge=1, le=200)) -> list[dict]:
        async with sessions() as session:
            return await repository.latest_notifications(session, caller.account_id, caller.user_id, limit)

    @router.get(
        "/stream",
        summary="Live notifications (server-sent events)",
        description="Each event's id is the notification id. Reconnect with `Last-Event-ID` to get "
        "everything missed since, nothing twice. EventSource clients may pass `?access_token=`.",
    )
    async def stream(
        request: Request,
        caller: StreamCaller,
        last_event_id: Annotated[str | None, Header()] = None,
    ) -> EventSourceResponse:
        user_id = str(caller.user_id)

        async def events():
            with hub.stream(user_id) as queue:
                # Subscribed before reading the backlog, so nothing falls between the two.
                last_sent = int(last_event_id) if last_event_id and last_event_id.isdigit() else None
                if last_sent is not None:
                    async with sessions() as session:
                        missed = await repository.notifications_after(
                            session, caller.account_id, caller.user_id, last_sent
                        )
                    for notification in missed:
                        last_sent = notification["id"]
                        yield _event(notification)
                yield {"event": "ready", "data": "{}"}
                while not await request.is_disconnected():
                    try:
                        notification = await asyncio.wait_for(queue.get(), timeout=settings.sse_ping_seconds)
                    except TimeoutError:
                        continue
                    if last_sent is not None and notification["id"] <= last_sent:
                        continue
                    last_sent = notification["id"]
                    yield _event(notification)

        return EventSourceResponse(events(), ping=settings.sse_ping_seconds)

    return router


def _event(notification: dict) -> dict:
    return {
        "id": str(notification["id"]),
        "event": notification["kind"],
        "data": json.dumps(notification),
    }
