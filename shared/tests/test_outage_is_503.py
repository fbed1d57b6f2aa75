"""A request that fails because the database is down, restarting or out of pooled connections is
answered 503 with Retry-After in the error shape, never 500 (the chaos run saw routing answer
500 while PostgreSQL restarted); any other failure is still a server error."""

import asyncpg
import httpx
from fastapi import FastAPI
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from shared.http.errors import install_error_handlers


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    failures = {
        "refused": lambda: ConnectionRefusedError(111, "Connect call failed"),
        "recovering": lambda: OperationalError(
            "SELECT 1", {}, asyncpg.CannotConnectNowError("the database system is starting up")
        ),
        "pool": lambda: PoolTimeout("QueuePool limit of size 10 overflow 10 reached"),
        "bug": lambda: ProgrammingError("SELECT 1", {}, asyncpg.UndefinedColumnError("no such column")),
        "file": lambda: FileNotFoundError(2, "No such file"),
    }

    @app.get("/{what}")
    async def fail(what: str) -> dict:
        raise failures[what]()

    return app


async def _get(path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get(path)


async def test_a_database_outage_is_503_with_retry_after_in_the_error_shape():
    for path in ("/refused", "/recovering", "/pool"):
        response = await _get(path)
        assert response.status_code == 503, path
        assert response.headers["retry-after"] == "5"
        assert response.json()["error"]["code"] == "unavailable"


async def test_other_failures_stay_server_errors():
    for path in ("/bug", "/file"):
        assert (await _get(path)).status_code == 500, path
