"""What an operator call can be refused with; routes.py turns each into its HTTP error."""


class PlatformRefusal(ValueError):
    status = 400
    code = "invalid_request"


class DealershipNotFound(PlatformRefusal):
    status, code = 404, "not_found"


class DealershipExists(PlatformRefusal):
    """A create named an id that is already a dealership (the demo seed names its own)."""

    status, code = 409, "dealership_exists"


class IdempotencyKeyReused(PlatformRefusal):
    """The same `Idempotency-Key` came with a different request: it is not a retry."""

    status, code = 422, "idempotency_key_reused"


class AdminEmailTaken(PlatformRefusal):
    status, code = 409, "email_taken"
