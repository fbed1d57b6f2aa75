"""What a send can be refused with: the API maps each to its answer (409 `cannot_send`, 422,
404)."""

from routing.domain.composer import ComposerState


class CannotSend(Exception):
    """The composer is blocked for this customer (opted out, landline, no mobile number,
    archived conversation): nothing is stored."""

    def __init__(self, state: ComposerState) -> None:
        super().__init__(state.message)
        self.state = state

    @property
    def reason(self) -> str:
        return self.state.reason or "unknown"


class InvalidMessage(ValueError):
    """The text itself cannot be sent: empty, too long, or a saved reply that cannot render.
    `field` names what to fix; `code` is the API's error code."""

    def __init__(
        self, message: str, field: str, code: str = "invalid_message", details: dict | None = None
    ) -> None:
        super().__init__(message)
        self.field = field
        self.code = code
        self.details = details or {}


class RecipientNotFound(LookupError):
    """The conversation or customer is not one of the account's (or does not exist: the caller
    cannot tell the difference)."""
