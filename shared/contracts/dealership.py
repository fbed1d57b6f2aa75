"""Events `routing` publishes about a dealership (an account) as a whole, through its outbox: the
operator API provisions, suspends and resumes one. Each service keeps its own part from these
(routing owns the account itself). Keyed by the account, so one account's changes arrive in order."""

from typing import Literal

from pydantic import Field

from shared.contracts.base import Event

Language = Literal["en", "fr_CA"]


class DealershipProvisioned(Event):
    """A new dealership (account) exists, with the defaults its services need."""

    name: str
    time_zone: str = Field(description="IANA time zone, e.g. America/Toronto")
    language: Language = Field(description="The dealership's default language for staff e-mails")

    @property
    def partition_key(self) -> str:
        return str(self.account_id)


class DealershipSuspended(Event):
    """An operator suspended the dealership: its staff is refused and it sends nothing until it
    resumes. Nothing is deleted, and what customers and the DMS send is still accepted."""

    reason: str | None = Field(None, description="Why, in the operator's words (no secret)")
    suspended_by: str = Field(description="The operator token's name or fingerprint")

    @property
    def partition_key(self) -> str:
        return str(self.account_id)


class DealershipResumed(Event):
    """An operator resumed a suspended dealership: everything works again."""

    resumed_by: str = Field(description="The operator token's name or fingerprint")

    @property
    def partition_key(self) -> str:
        return str(self.account_id)
