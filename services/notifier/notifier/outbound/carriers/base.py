"""The interface every carrier adapter implements, and the error it raises."""

from collections.abc import Sequence
from typing import Protocol

from shared.contracts.messaging import ErrorCategory


class CarrierError(Exception):
    """The carrier did not accept the message (or could not be reached)."""

    def __init__(
        self,
        message: str,
        *,
        category: ErrorCategory,
        retryable: bool,
        code: str | None = None,
        http_status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.category: ErrorCategory = category
        self.retryable = retryable
        self.code = code
        self.http_status = http_status
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return (
            f"CarrierError({self.category}, code={self.code}, retryable={self.retryable}, {self.message!r})"
        )


class CarrierAdapter(Protocol):
    carrier: str

    async def send(
        self,
        from_number: str,
        to_number: str,
        body: str,
        media_urls: Sequence[str],
        idempotency_key: str,
    ) -> str:
        """Hands one message to the carrier; returns the carrier's message id or raises CarrierError."""
        ...
