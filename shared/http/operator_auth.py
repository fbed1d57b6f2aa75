"""Operator tokens: what the people who run Switchboard (not a dealership's staff) present to the
platform endpoints (`/platform/v1` on routing, usage endpoints on the other services).

The tokens come from a Kubernetes Secret as one environment variable, `OPERATOR_TOKENS`: entries
separated by commas, each `name=secret` (or just `secret`), where `secret` is the token itself or
its SHA-256 digest written `sha256:<64 hex>`. Several entries are valid at once, so a token is
rotated by adding the new one, moving callers over, then removing the old one. Only digests are
kept in memory and compared (in constant time, against every entry); the caller is known by the
entry's name or, without one, by a short fingerprint of the digest: never by the token.

A staff JWT is not an operator token: it is refused here like any other wrong token."""

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from fastapi import Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

from shared.http.errors import ApiError
from shared.settings import ServiceSettings

log = structlog.get_logger(__name__)
_DIGEST_PREFIX = "sha256:"
_FINGERPRINT_LENGTH = 12

# Declared so the OpenAPI document shows the scheme; the dependency reads the header itself.
OPERATOR_BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="OperatorToken",
    description="An operator token from the `OPERATOR_TOKENS` Secret (not a staff JWT)",
)


@dataclass(frozen=True)
class Operator:
    """Who called a platform endpoint: safe to log and to write in an audit line."""

    name: str
    fingerprint: str


@dataclass(frozen=True)
class _OperatorToken:
    operator: Operator
    digest: bytes


class InvalidOperatorTokens(ValueError):
    """`OPERATOR_TOKENS` is malformed (the message never contains a token)."""


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def token_fingerprint(digest: bytes) -> str:
    return _DIGEST_PREFIX + digest.hex()[:_FINGERPRINT_LENGTH]


def hash_operator_token(token: str) -> str:
    """What to put in the Secret instead of the token itself: `sha256:<hex>`."""
    return _DIGEST_PREFIX + token_digest(token).hex()


def parse_operator_tokens(raw: str | SecretStr | None) -> tuple[_OperatorToken, ...]:
    text = raw.get_secret_value() if isinstance(raw, SecretStr) else (raw or "")
    tokens: list[_OperatorToken] = []
    for position, entry in enumerate(part.strip() for part in text.split(",")):
        if not entry:
            continue
        name, separator, secret = entry.partition("=")
        if not separator:
            name, secret = "", entry
        name, secret = name.strip(), secret.strip()
        if not secret:
            raise InvalidOperatorTokens(f"operator token entry {position + 1} has no token")
        if secret.startswith(_DIGEST_PREFIX):
            try:
                digest = bytes.fromhex(secret.removeprefix(_DIGEST_PREFIX))
            except ValueError:
                digest = b""
            if len(digest) != hashlib.sha256().digest_size:
                raise InvalidOperatorTokens(
                    f"operator token entry {position + 1}: a digest is sha256: and 64 hex digits"
                )
        else:
            digest = token_digest(secret)
        fingerprint = token_fingerprint(digest)
        tokens.append(_OperatorToken(Operator(name or fingerprint, fingerprint), digest))
    return tuple(tokens)


def find_operator(tokens: tuple[_OperatorToken, ...], presented: str) -> Operator | None:
    """The operator whose token was presented, or None. Every entry is compared, in constant time,
    so the answer's timing does not say which entry (or how much of one) matched."""
    digest = token_digest(presented)
    found: Operator | None = None
    for token in tokens:
        if hmac.compare_digest(token.digest, digest):
            found = token.operator
    return found


def require_operator(settings: ServiceSettings) -> Callable[[Request], Awaitable[Operator]]:
    """FastAPI dependency: the `Operator` behind `Authorization: Bearer <operator token>`, or 401
    `unauthorized` in the usual error shape. `settings.operator_tokens` is read once, here.

        router = APIRouter(dependencies=[Depends(require_operator(settings))])
        # or, to know who called:  operator: Annotated[Operator, Depends(require_operator(settings))]
    """
    tokens = parse_operator_tokens(settings.operator_tokens)

    async def operator(request: Request) -> Operator:
        credentials: HTTPAuthorizationCredentials | None = await OPERATOR_BEARER(request)
        if credentials is None or not credentials.credentials:
            _refused(request, "missing")
            raise ApiError(401, "unauthorized", "an operator token is required")
        found = find_operator(tokens, credentials.credentials)
        if found is None:
            _refused(request, "unknown")
            raise ApiError(401, "unauthorized", "invalid operator token")
        return found

    return operator


def _refused(request: Request, why: str) -> None:
    """Someone knocked on a platform endpoint without a valid token: said, never with the token."""
    client = request.client.host if request.client else None
    log.warning(
        "operator token refused", reason=why, method=request.method, path=request.url.path, client=client
    )


__all__ = [
    "OPERATOR_BEARER",
    "InvalidOperatorTokens",
    "Operator",
    "find_operator",
    "hash_operator_token",
    "parse_operator_tokens",
    "require_operator",
]
