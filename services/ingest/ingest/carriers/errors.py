"""What can go wrong talking to a carrier's API, in the two kinds catch-up acts on."""

import httpx


class CarrierUnavailable(Exception):
    """Temporary: a 429, a 5xx, a timeout, no connection. Nothing is lost; the number is listed
    again after a back-off (at least `retry_after` seconds when the carrier said so)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CredentialsRejected(Exception):
    """401 / 403: the credentials the dealership gave were revoked or changed at the carrier.
    Shown on the dealership's carrier settings until an admin fixes them."""


def retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def raise_for_answer(carrier: str, response: httpx.Response) -> None:
    if response.is_success:
        return
    status = response.status_code
    if status in (401, 403):
        raise CredentialsRejected(f"{carrier} refused the credentials (HTTP {status})")
    raise CarrierUnavailable(f"{carrier} answered HTTP {status}", retry_after(response))


async def get(client: httpx.AsyncClient, carrier: str, url: str, **kwargs) -> httpx.Response:
    try:
        return await client.get(url, **kwargs)
    except httpx.HTTPError as exc:
        raise CarrierUnavailable(f"{carrier} did not answer: {type(exc).__name__}") from exc


def json_of(carrier: str, response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError as exc:
        raise CarrierUnavailable(f"{carrier} answered something that is not JSON") from exc
    if not isinstance(body, dict):
        raise CarrierUnavailable(f"{carrier} answered JSON that is not an object")
    return body
