"""JWTs: staff tokens issued by `routing`, short-lived service tokens between services.
Every service checks them the same way and scopes every query by the token's account."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from uuid import UUID

import jwt
from fastapi import Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.http.errors import ApiError
from shared.http.suspension import SuspendedAccounts, refuse_suspended
from shared.settings import ServiceSettings

Role = Literal["admin", "agent", "service"]
_ALGORITHM = "HS256"


@dataclass(frozen=True)
class Principal:
    subject: str
    account_id: UUID
    role: Role
    # When the token was issued (whole seconds): sessions ended after it (a password reset) refuse it.
    issued_at: datetime | None = None

    @property
    def user_id(self) -> UUID:
        return UUID(self.subject)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def ended_sessions(principal: Principal, sessions_valid_after: datetime | None) -> bool:
    """True when the token was issued before the user's sessions were ended (their password was
    set or reset since): it must be refused. A token without an issue time counts as ended then."""
    if sessions_valid_after is None:
        return False
    return principal.issued_at is None or principal.issued_at < sessions_valid_after


def issue_token(
    settings: ServiceSettings,
    subject: str,
    account_id: UUID,
    role: Role,
    ttl: timedelta | None = None,
) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": subject,
        "acc": str(account_id),
        "role": role,
        "iss": settings.jwt_issuer,
        "iat": now,
        "exp": now + (ttl or timedelta(minutes=settings.jwt_ttl_minutes)),
    }
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm=_ALGORITHM)


def decode_token(settings: ServiceSettings, token: str) -> Principal:
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=[_ALGORITHM],
            issuer=settings.jwt_issuer,
            options={"require": ["sub", "exp", "iss"]},
        )
        issued = claims.get("iat")
        return Principal(
            subject=claims["sub"],
            account_id=UUID(claims["acc"]),
            role=claims["role"],
            issued_at=datetime.fromtimestamp(issued, UTC) if isinstance(issued, int | float) else None,
        )
    except (jwt.PyJWTError, KeyError, ValueError) as exc:
        raise ApiError(401, "unauthorized", "invalid or expired token") from exc


class Authenticated:
    """FastAPI dependency: the caller's principal from `Authorization: Bearer`, or from
    `?access_token=` for clients that cannot set headers (EventSource). `suspended`: in a service
    that keeps a projection of suspended dealerships, a staff token of one is refused with 401
    `dealership_suspended`."""

    def __init__(
        self,
        settings: ServiceSettings,
        allow_query_token: bool = False,
        suspended: SuspendedAccounts | None = None,
    ) -> None:
        self._settings = settings
        self._allow_query_token = allow_query_token
        self._suspended = suspended
        self._bearer = HTTPBearer(auto_error=False)

    async def __call__(self, request: Request) -> Principal:
        credentials: HTTPAuthorizationCredentials | None = await self._bearer(request)
        token = credentials.credentials if credentials else None
        if token is None and self._allow_query_token:
            token = request.query_params.get("access_token")
        if not token:
            raise ApiError(401, "unauthorized", "a bearer token is required")
        principal = decode_token(self._settings, token)
        if (
            self._suspended is not None
            and principal.role != "service"
            and await self._suspended.contains(principal.account_id)
        ):
            raise refuse_suspended()
        return principal
