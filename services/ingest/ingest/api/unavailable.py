"""A dependency down is a 503 with Retry-After and the usual error body, never a 500: a carrier
or integrator that sees 503 knows to send again, and our OpenAPI documents it. PostgreSQL
restarting, failing over or refusing connections surfaces as SQLAlchemy's OperationalError /
InterfaceError (or the driver's connection errors) and pool time-outs; Kafka not acknowledging
is PublishFailed."""

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc

from shared.http.errors import error_body
from shared.kafka.broker import PublishFailed

RETRY_AFTER_SECONDS = 5
_CONNECTION_TROUBLE = (
    OSError,
    TimeoutError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.InterfaceError,
)


def unavailable(message: str) -> JSONResponse:
    return JSONResponse(
        error_body("unavailable", message),
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def is_database_down(exc: BaseException) -> bool:
    if isinstance(exc, sa_exc.TimeoutError | sa_exc.DisconnectionError):
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        return (
            exc.connection_invalidated
            or isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError)
            or isinstance(exc.orig, _CONNECTION_TROUBLE)
            or isinstance(getattr(exc.orig, "__cause__", None), _CONNECTION_TROUBLE)
        )
    return isinstance(exc, _CONNECTION_TROUBLE)


def install_unavailable_handlers(app: FastAPI) -> None:
    @app.exception_handler(PublishFailed)
    async def _kafka(_request: Request, _exc: PublishFailed) -> JSONResponse:
        return unavailable("could not store the request (Kafka unavailable); send it again later")

    async def _database(_request: Request, exc: Exception) -> JSONResponse:
        if is_database_down(exc):
            return unavailable("the database is unavailable; send the request again later")
        # A bug, not an outage: still the documented error body.
        return JSONResponse(error_body("internal_error", "unexpected error"), status_code=500)

    for kind in (
        sa_exc.SQLAlchemyError,
        OSError,
        asyncpg.exceptions.PostgresError,
        asyncpg.exceptions.InterfaceError,
    ):
        app.add_exception_handler(kind, _database)
