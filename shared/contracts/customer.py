"""Events `routing` publishes about customer profiles, through its outbox."""

from uuid import UUID

from pydantic import Field

from shared.contracts.base import Contract, Event


class CustomerPhone(Contract):
    e164: str
    kind: str = Field(description="mobile, landline or unknown")


class CustomerChanged(Event):
    """A customer profile changed (created from an inbound text, edited by staff, upserted from
    the DMS, or merged): the full current profile, so a consumer keeps only the latest one.
    Emitted for both profiles of a merge; the one merged away carries `merged_into_customer_id`."""

    customer_id: UUID
    dms_customer_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phones: list[CustomerPhone] = Field(default_factory=list)
    merged_into_customer_id: UUID | None = Field(
        None, description="Set when this profile was merged into another one (it keeps no phone)."
    )
    reason: str = Field("updated", description="created, updated, dms_upserted or merged")

    @property
    def partition_key(self) -> str:
        return str(self.customer_id)


class ConversationMerged(Event):
    """Two customer profiles merged: the merged-away profile's conversation is now an archived
    conversation of the surviving customer (readable, nothing deleted)."""

    archived_conversation_id: UUID | None = Field(
        None, description="The merged-away profile's conversation, now archived (none if it had none)."
    )
    surviving_conversation_id: UUID | None = Field(
        None, description="The surviving profile's active conversation (none if it had none)."
    )
    moved_conversation_ids: list[UUID] = Field(
        default_factory=list,
        description="Every conversation that belonged to the merged-away profile and now belongs to "
        "the surviving customer (the archived one, or its active one when the survivor had none).",
    )
    surviving_customer_id: UUID
    merged_customer_id: UUID
    phone_e164: str = Field(description="The mobile number that made the two profiles one.")

    @property
    def partition_key(self) -> str:
        return str(self.surviving_customer_id)
