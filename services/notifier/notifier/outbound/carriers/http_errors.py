"""What both adapters do with an answer that is not a success, or with no answer at all."""

import httpx

from notifier.outbound.carriers.base import CarrierError
from shared.carriers.error_codes import classify

# The request never left us: no connection was made (or none was free), so nothing was sent.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def transport_error(carrier: str, exc: httpx.HTTPError) -> CarrierError:
    """No answer. Temporary either way, but only a failure to connect is sure to have sent
    nothing; a read timeout or a dropped connection may come after the carrier took the text."""
    code = "timeout" if isinstance(exc, httpx.TimeoutException) else "network"
    if isinstance(exc, _NEVER_SENT):
        return CarrierError(
            f"{carrier} could not be reached: {type(exc).__name__}",
            category="unknown",
            retryable=True,
            code=code,
        )
    return CarrierError(
        f"{carrier} did not answer: {type(exc).__name__} after the request was sent",
        category="unknown",
        retryable=True,
        code=code,
        ambiguous=True,
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
        # A 4xx (429 included) says the carrier refused it; a 5xx may come after it stored the text.
        ambiguous=response.status_code >= 500,
    )


def json_or_empty(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
