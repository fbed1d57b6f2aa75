"""Events `routing` publishes about a dealership (an account) as a whole, through its outbox: the
operator API provisions, suspends and resumes one. routing owns the account; the other services
set up their own part of a new dealership through their own APIs, which its admin calls (ingest:
carrier webhook credentials, DMS integrations; notifier: sending credentials) or from routing's
other events (ingest's number map from phone_number.changed.v1). No service needs a copy of the
name, time zone or language yet: what needs them gets them in the event that needs them (a text
to send carries the account's time zone for quiet hours, an invitation its language), so
provisioned.v1 has no consumer of its own today; it is there for the next one (usage, billing).
Suspended/resumed tell the services that refuse a suspended dealership's work. Keyed by the
account, so one account's changes arrive in order."""

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
