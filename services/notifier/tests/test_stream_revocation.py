"""A live stream outlives its connect-time check no longer than it must: the user is checked
again against routing (the real routing API of these tests) every few seconds here, the stream
of a user deactivated meanwhile ends, and their reconnection is refused. The same for both
streams: the notifications' and the account's (/api/v1/live)."""

import asyncio
import socket
from uuid import uuid4

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from notifier.api.live import live_router
from notifier.api.notifications import notifications_router
from notifier.email.directory import UserDirectory
from shared.db.engine import create_engine, create_session_factory
from shared.http.auth import issue_token
from shared.http.errors import install_error_handlers


@pytest.fixture(params=["/api/v1/notifications/stream", "/api/v1/live"])
async def quick_stream(request, settings, notifier):
    """The notifications API re-checking stream users every 0.5 s (routing's answers kept 0.2 s),
    served over real HTTP."""
    quick = settings.model_copy(update={"stream_user_check_seconds": 0.5, "sse_ping_seconds": 1})
    engine = create_engine(quick)
    async with httpx.AsyncClient(timeout=5) as routing_http:
        directory = UserDirectory(quick, quick.routing_url, routing_http, cache_seconds=0.2)
        app = FastAPI()
        install_error_handlers(app)
        sessions = create_session_factory(engine)
        app.include_router(notifications_router(quick, sessions, notifier.hub, directory))
        app.include_router(live_router(quick, sessions, notifier.hub, directory))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        serving = asyncio.create_task(server.serve())
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}{request.param}"
        server.should_exit = True
        server.force_exit = True  # open streams do not wait for the graceful shutdown
        await asyncio.wait_for(serving, 20)
    await engine.dispose()


def _token(dealer, who: str) -> str:
    return dealer.headers(who)["authorization"].removeprefix("Bearer ")


async def _set_active(settings, dealer, who: str, active: bool) -> None:
    async with httpx.AsyncClient(base_url=settings.routing_url, timeout=10) as routing:
        changed = await routing.patch(
            f"/api/v1/users/{dealer.users[who]}", json={"active": active}, headers=dealer.headers("alex")
        )
    assert changed.status_code == 200, changed.text


async def test_the_stream_of_a_deactivated_user_ends_and_stays_closed(quick_stream, settings, dealer, nt):
    kims = nt.SseStream(quick_stream, _token(dealer, "kim"))
    sams = nt.SseStream(quick_stream, _token(dealer, "sam"))
    async with sams.open(), kims.open():
        await _set_active(settings, dealer, "sam", False)
        await asyncio.wait_for(asyncio.shield(sams._task), 10)
        await asyncio.sleep(1.5)
        assert not kims._task.done(), "a colleague's stream stays open"
    async with httpx.AsyncClient(timeout=10) as client:
        again = await client.get(quick_stream, headers=dealer.headers("sam"))
    assert again.status_code == 401 and again.json()["error"]["code"] == "unauthorized"


async def test_a_token_of_a_user_routing_does_not_know_cannot_open_a_stream(quick_stream, settings, dealer):
    token = issue_token(settings, str(uuid4()), dealer.account_id, "agent")
    async with httpx.AsyncClient(timeout=10) as client:
        refused = await client.get(quick_stream, headers={"authorization": f"Bearer {token}"})
    assert refused.status_code == 401
