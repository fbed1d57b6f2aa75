"""What both adapters do with an answer that is not a success, or with no answer at all."""

import httpx

from notifier.outbound.carriers.base import CarrierError
from shared.carriers.error_codes import classify


def transport_error(carrier: str, exc: httpx.HTTPError) -> CarrierError:
    """Timeouts and connection failures are temporary; the idempotency key makes a retry safe
    where the carrier honours it."""
    code = "timeout" if isinstance(exc, httpx.TimeoutException) else "network"
    return CarrierError(
        f"{carrier} could not be reached: {type(exc).__name__}", category="unknown", retryable=True, code=code
    )


def retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def rejected(carrier: str, response: httpx.Response, code: str | None, message: str) -> CarrierError:
    info = classify(carrier, code, response.status_code)
    return CarrierError(
        message or f"{carrier} answered HTTP {response.status_code}",
        category=info.category,
        retryable=info.retryable,
        code=code or str(response.status_code),
        http_status=response.status_code,
        retry_after=retry_after_seconds(response),
    )


def json_or_empty(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
