"""Every error leaves as `{"error": {"code", "message", "details"}}` with the right status."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.unavailable import dependency_unavailable

# What a request may fail with when the database (or another dependency) is down or restarting;
# answered 503 with Retry-After, never 500 (the chaos run saw 500s from routing then).
_OUTAGE_CANDIDATES = (OSError, DBAPIError, PoolTimeout)
RETRY_AFTER_SECONDS = "5"


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        # Such as Retry-After on a 429.
        self.headers = headers


def error_body(code: str, message: str, details: Any = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details}}


def error_response(description: str, code: str, message: str) -> dict:
    """An OpenAPI `responses` entry: what the error means, with an example body."""
    return {
        "description": description,
        "content": {"application/json": {"example": error_body(code, message)}},
    }


ERROR_RESPONSE_SCHEMA = {
    "description": "Error",
    "content": {
        "application/json": {
            "example": error_body("not_found", "conversation not found"),
        }
    },
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.code, exc.message, exc.details), status_code=exc.status, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": list(err.get("loc", ())), "msg": err.get("msg"), "type": err.get("type")}
            for err in exc.errors()
        ]
        return JSONResponse(
            error_body("invalid_request", "the request is not valid", details), status_code=422
        )

    async def _unavailable(_request: Request, exc: Exception) -> JSONResponse:
        if not (isinstance(exc, PoolTimeout) or dependency_unavailable(exc)):
            raise exc
        return JSONResponse(
            error_body("unavailable", "a service this request needs is unavailable; try again shortly"),
            status_code=503,
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )

    for candidate in _OUTAGE_CANDIDATES:
        app.add_exception_handler(candidate, _unavailable)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
        return JSONResponse(
            error_body(code.get(exc.status_code, "http_error"), str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )
