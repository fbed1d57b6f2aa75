"""The rules of DMS customer records and profile merges, as plain functions.

A phone number belongs to one profile of an account. When the DMS gives one of its customers a
mobile number that a profile made outside the DMS holds (someone who texted in, or a profile
staff created), the two profiles merge: the DMS profile survives, because the DMS is where the
customer's identity comes from, and choosing it whatever the order of events makes the result
the same however the events arrive or are replayed. Two DMS records are two customers of the
DMS: they never merge, and a number both claim goes to the record that claimed it last.

"Last" is the time the DMS says each claiming event happened (its `occurred_at`), stored with
the number. Record versions cannot decide it: each record has its own (a counter is allowed), so
version 7 of one customer says nothing about version 3 of another. Times are comparable across
records, the event id breaks a tie, and a record listing a number it already holds renews its
claim, so the holder is the latest claim whatever order the events arrive in or are replayed.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from uuid import UUID

from routing.domain.phones import InvalidPhoneNumber, PhoneKind, to_e164


class Claim(Enum):
    """What happens when a DMS record lists a number another profile holds."""

    MERGE = "merge"  # the holder merges into the DMS profile
    MOVE = "move"  # the number moves to the DMS profile; the holder stays a profile of its own
    KEEP = "keep"  # the holder keeps it


@dataclass(frozen=True, order=True)
class ClaimStamp:
    """When a DMS event claimed a number; ordered by time, then by event id (a tie-break that
    every replica and every replay computes alike)."""

    at: datetime
    event_id: UUID

    @classmethod
    def of(cls, at: datetime, event_id: UUID) -> "ClaimStamp":
        # A time without an offset is read as UTC, so every stamp compares with every other.
        return cls(at if at.tzinfo is not None else at.replace(tzinfo=UTC), event_id)


@dataclass(frozen=True)
class Holder:
    customer_id: UUID
    dms_customer_id: str | None
    # None for a number no DMS event claimed (or claimed before claims were stamped).
    claimed: ClaimStamp | None


@dataclass(frozen=True)
class ConversationPlan:
    """What becomes of the merged-away profile's active conversation."""

    archive: UUID | None = None  # archived under the survivor, which keeps its own active one
    move_active: UUID | None = None  # the survivor had none: it becomes the survivor's active one


def is_newer(incoming: int, stored: int | None) -> bool:
    """An event applies only when it is newer than what is stored; an equal version is a replay."""
    return stored is None or incoming > stored


def claim_number(claim: ClaimStamp, holder: Holder, kind: PhoneKind) -> Claim:
    """What a DMS record's claim on a number another profile holds does."""
    if holder.dms_customer_id is None:
        # Only a mobile number identifies a person; a shared landline does not merge households.
        return Claim.MERGE if kind == "mobile" else Claim.KEEP
    # Two DMS customers: the later claim wins. An unstamped claim is older than any stamped one.
    if holder.claimed is None or claim > holder.claimed:
        return Claim.MOVE
    return Claim.KEEP


def renewed_claim(stored: ClaimStamp | None, claim: ClaimStamp) -> ClaimStamp:
    """The stamp a number keeps when its own record lists it again: the later of the two (an
    event's time need not grow with the record's version)."""
    return claim if stored is None or claim > stored else stored


def plan_conversations(survivor_active: UUID | None, merged_active: UUID | None) -> ConversationPlan:
    """One active conversation per customer: the survivor's stays active."""
    if merged_active is None:
        return ConversationPlan()
    if survivor_active is None:
        return ConversationPlan(move_active=merged_active)
    return ConversationPlan(archive=merged_active)


@dataclass(frozen=True)
class DmsNumber:
    e164: str
    kind: PhoneKind


def dms_numbers(phones: list[tuple[str, PhoneKind]], region: str) -> tuple[list[DmsNumber], list[str]]:
    """The DMS's numbers in E.164, each once (a number listed as mobile anywhere is a mobile),
    and the ones that are not phone numbers at all (skipped: one bad number must not lose the
    rest of the record)."""
    found: dict[str, PhoneKind] = {}
    unusable: list[str] = []
    for raw, kind in phones:
        try:
            e164 = to_e164(raw, region)
        except InvalidPhoneNumber:
            unusable.append(raw)
            continue
        if found.get(e164) != "mobile":
            found[e164] = "mobile" if kind == "mobile" else found.get(e164, kind)
    return [DmsNumber(e164, kind) for e164, kind in found.items()], unusable
