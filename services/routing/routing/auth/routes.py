from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from routing.auth.models import (
    LoginRequest,
    TokenResponse,
)
from routing.auth.usecases import InvalidCredentials, login
from shared.http.errors import ApiError
from shared.settings import ServiceSettings


def auth_router(settings: ServiceSettings, sessions: async_sessionmaker[AsyncSession]) -> APIRouter:
    router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

    @router.post("/login", response_model=TokenResponse, summary="Log in with e-mail and password")
    async def login_route(body: LoginRequest) -> TokenResponse:
        async with sessions() as session:
            try:
                token = await login(session, settings, body.email, body.password)
            except InvalidCredentials as exc:
                raise ApiError(401, "invalid_credentials", "wrong e-mail or password") from exc
        return TokenResponse(access_token=token)

    return router
