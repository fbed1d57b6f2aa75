"""The one declared list of topics. Services create them at start-up, each consumed topic with
its dead-letter twin, and the deployment manifests are checked against it."""

from dataclasses import dataclass

from shared.contracts.base import Event
from shared.contracts.carrier import CarrierInbound, CarrierStatus, RejectedInput
from shared.contracts.conversation import (
    ConversationsAssigned,
    ConversationStatusChanged,
    MessageReceived,
    NoteAdded,
)


@dataclass(frozen=True)
class TopicSpec:
    name: str
    contract: type
    description: str
    key: str
    consumed: bool = True

    @property
    def dead_letter(self) -> str:
        return dead_letter_topic(self.name)


def dead_letter_topic(name: str) -> str:
    return f"{name}.dlq"


CARRIER_INBOUND = TopicSpec(
    "carrier.inbound.v1", CarrierInbound, "Customer texts received by a carrier", "to:from numbers"
)
CARRIER_STATUS = TopicSpec(
    "carrier.status.v1", CarrierStatus, "Carrier delivery receipts", "carrier message id"
)
CARRIER_REJECTED = TopicSpec(
    "carrier.rejected.v1",
    RejectedInput,
    "Authentic carrier webhooks that could not be used, with the reason",
    "carrier",
    consumed=False,
)
MESSAGE_RECEIVED = TopicSpec(
    "conversation.message_received.v1",
    MessageReceived,
    "A customer message stored in a conversation",
    "conversation id",
)
CONVERSATION_ASSIGNED = TopicSpec(
    "conversation.assigned.v1",
    ConversationsAssigned,
    "Conversations assigned to a user or a team (one event per, possibly bulk, action)",
    "account id",
)
CONVERSATION_NOTE_ADDED = TopicSpec(
    "conversation.note_added.v1",
    NoteAdded,
    "An internal note, with the staff it @mentions",
    "account id",
)
CONVERSATION_STATUS_CHANGED = TopicSpec(
    "conversation.status_changed.v1",
    ConversationStatusChanged,
    "A conversation closed or reopened",
    "conversation id",
)

ALL_TOPICS: tuple[TopicSpec, ...] = (
    CARRIER_INBOUND,
    CARRIER_STATUS,
    CARRIER_REJECTED,
    MESSAGE_RECEIVED,
    CONVERSATION_ASSIGNED,
    CONVERSATION_NOTE_ADDED,
    CONVERSATION_STATUS_CHANGED,
)


def all_topic_names() -> list[str]:
    names: list[str] = []
    for spec in ALL_TOPICS:
        names.append(spec.name)
        if spec.consumed:
            names.append(spec.dead_letter)
    return names


__all__ = ["ALL_TOPICS", "Event", "TopicSpec", "all_topic_names", "dead_letter_topic"]
