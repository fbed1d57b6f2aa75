"""The interface every carrier adapter implements, and the error it raises."""

from collections.abc import Sequence
from datetime import datetime
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
        ambiguous: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.category: ErrorCategory = category
        self.retryable = retryable
        self.code = code
        self.http_status = http_status
        self.retry_after = retry_after
        # The request reached the carrier and we do not know what it did with it: it may have
        # accepted the text. Sending again is only safe where the carrier dedupes on our key.
        self.ambiguous = ambiguous

    def __repr__(self) -> str:
        return (
            f"CarrierError({self.category}, code={self.code}, retryable={self.retryable},"
            f" ambiguous={self.ambiguous}, {self.message!r})"
        )


class CarrierAdapter(Protocol):
    carrier: str
    # True where a retry carrying the same idempotency key can never create a second message.
    honours_idempotency_key: bool

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


class SentMessageLookup(Protocol):
    """A carrier that ignores idempotency keys answers instead which messages it accepted, so a
    sender unsure whether its text went can ask before sending again."""

    async def accepted_since(self, from_number: str, to_number: str, body: str, since: datetime) -> list[str]:
        """Ids of messages from→to with this body created at or after `since`, oldest first;
        raises CarrierError when the carrier cannot tell."""
        ...
