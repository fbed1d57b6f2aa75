"""Events `routing` publishes about the dealership numbers of an account, through its outbox."""

from typing import Literal

from pydantic import Field

from shared.contracts.base import Event


class PhoneNumberChanged(Event):
    """A dealership number was added to an account or removed from it (routing's admin API).
    routing holds the numbers; services that find an account by a number keep their own map
    from these events (ingest, for Telnyx webhooks, which name a number and not an account).
    Keyed by the number, so the changes of one number arrive in order."""

    e164: str = Field(description="The dealership number, E.164")
    carrier: Literal["twilio", "telnyx"] = Field(description="The carrier the number is with")
    kind: str | None = Field(None, description="long_code or toll_free")
    change: Literal["added", "removed"]

    @property
    def partition_key(self) -> str:
        return self.e164
