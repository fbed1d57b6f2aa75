"""A service keeps an idle client connection open longer than our clients keep it in their pools.

Uvicorn closes an idle connection after 5 s by default, exactly when httpx's pool would still
reuse it; a POST sent on a connection the server is closing fails and is not retried (the web
inbox then said "Switchboard could not be reached" at sign-in)."""

import asyncio

import uvicorn
from fastapi import FastAPI

from shared.runner import server_config
from shared.settings import HttpProcessSettings
from shared.testing.ports import free_port


def _app() -> FastAPI:
    app = FastAPI()

    @app.post("/sign-in")
    async def sign_in() -> dict:
        return {"ok": True}

    return app


async def _post_on(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    writer.write(b"POST /sign-in HTTP/1.1\r\nhost: test\r\ncontent-length: 0\r\n\r\n")
    await writer.drain()
    return await asyncio.wait_for(reader.readuntil(b'{"ok":true}'), timeout=5)


async def test_an_idle_connection_is_still_open_after_uvicorns_default_keep_alive():
    settings = HttpProcessSettings(http_port=free_port())
    server = uvicorn.Server(server_config(_app(), settings))
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(500):  # up to 10 s to start
            if server.started:
                break
            await asyncio.sleep(0.02)
        reader, writer = await asyncio.open_connection("127.0.0.1", settings.http_port)
        assert b"200 OK" in await _post_on(reader, writer)

        await asyncio.sleep(6)  # past uvicorn's default of 5 s

        assert b"200 OK" in await _post_on(reader, writer)
        writer.close()
    finally:
        server.should_exit = True
        await serving
