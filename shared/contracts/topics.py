"""The one declared list of topics. Services create them at start-up, each consumed topic with
its dead-letter twin, and the deployment manifests are checked against it."""

from dataclasses import dataclass

from shared.contracts.base import Event
from shared.contracts.carrier import CarrierInbound, CarrierStatus, RejectedInput
from shared.contracts.conversation import (
    ConversationReadChanged,
    ConversationsAssigned,
    ConversationStatusChanged,
    DeliveryFailed,
    MessageReceived,
    MessageSent,
    MessageStatusChanged,
    NoteAdded,
)
from shared.contracts.customer import ConversationMerged, CustomerChanged
from shared.contracts.dealership import DealershipProvisioned, DealershipResumed, DealershipSuspended
from shared.contracts.dms import DmsEvent, DmsEventRejected
from shared.contracts.export import ExportCompleted, ExportRequested
from shared.contracts.messaging import OutboundRequested, OutboundStatusChanged, SendRequested
from shared.contracts.phone_numbers import PhoneNumberChanged
from shared.contracts.staff import PasswordResetRequested, StaffInvitationSent


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
MESSAGE_SENT = TopicSpec(
    "conversation.message_sent.v1",
    MessageSent,
    "A message to a customer stored as queued (staff reply or automated source)",
    "conversation id",
)
MESSAGE_DELIVERY_FAILED = TopicSpec(
    "conversation.delivery_failed.v1",
    DeliveryFailed,
    "An outbound message the carrier could not deliver, with its plain error category",
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
CONVERSATION_READ = TopicSpec(
    "conversation.read.v1",
    ConversationReadChanged,
    "A person marked a conversation read or unread",
    "conversation id",
)
MESSAGE_STATUS_CHANGED = TopicSpec(
    "conversation.message_status_changed.v1",
    MessageStatusChanged,
    "An outbound message's delivery status changed (queued, sent, delivered, undelivered, failed)",
    "conversation id",
)
SMS_OUTBOUND_REQUESTED = TopicSpec(
    "sms.outbound_requested.v1",
    OutboundRequested,
    "A stored outbound message for notifier to send through the carrier",
    "sending number",
)
SMS_OUTBOUND_STATUS = TopicSpec(
    "sms.outbound_status.v1",
    OutboundStatusChanged,
    "What happened to an outbound message (sent, delivered, failed with a category)",
    "message id",
)
MESSAGING_SEND_REQUESTED = TopicSpec(
    "messaging.send_requested.v1",
    SendRequested,
    "Another system asks routing to text a customer (automation, campaign, appointment)",
    "customer id or phone",
)
EXPORT_REQUESTED = TopicSpec(
    "export.requested.v1", ExportRequested, "A conversation export to render as PDF", "job id"
)
EXPORT_COMPLETED = TopicSpec(
    "export.completed.v1",
    ExportCompleted,
    "A rendered export with its signed, expiring link (or why it failed)",
    "job id",
)
DMS_EVENTS = TopicSpec(
    "dms.events.v1",
    DmsEvent,
    "DMS records (customers, appointments, repair orders, payments) from integrators, "
    "straight onto Kafka or through ingest's HTTP API",
    "DMS customer id",
)
DMS_REJECTED = TopicSpec(
    "dms.events.rejected.v1",
    DmsEventRejected,
    "DMS events ingest could not accept, with the reason (integrators read them back by API)",
    "account id",
    consumed=False,
)
CUSTOMER_CHANGED = TopicSpec(
    "customer.changed.v1",
    CustomerChanged,
    "A customer profile as it is now (created, edited, upserted from the DMS, merged)",
    "customer id",
)
CONVERSATION_MERGED = TopicSpec(
    "conversation.merged.v1",
    ConversationMerged,
    "Two customer profiles merged: the other conversation is archived under the surviving customer",
    "surviving customer id",
)
PHONE_NUMBER_CHANGED = TopicSpec(
    "phone_number.changed.v1",
    PhoneNumberChanged,
    "A dealership number added to or removed from an account (ingest keeps its number map)",
    "number",
)
STAFF_INVITATION_SENT = TopicSpec(
    "staff.invitation_sent.v1",
    StaffInvitationSent,
    "Someone was invited to a dealership: notifier e-mails them the link to set their password",
    "invitation id",
)
STAFF_PASSWORD_RESET_REQUESTED = TopicSpec(
    "staff.password_reset_requested.v1",
    PasswordResetRequested,
    "A staff member asked for a password reset: notifier e-mails them the link",
    "user id",
)
DEALERSHIP_PROVISIONED = TopicSpec(
    "dealership.provisioned.v1",
    DealershipProvisioned,
    "An operator created a dealership (name, time zone, language): services set up their part",
    "account id",
)
DEALERSHIP_SUSPENDED = TopicSpec(
    "dealership.suspended.v1",
    DealershipSuspended,
    "An operator suspended a dealership: staff refused, nothing sent, inbound still stored",
    "account id",
)
DEALERSHIP_RESUMED = TopicSpec(
    "dealership.resumed.v1",
    DealershipResumed,
    "An operator resumed a suspended dealership",
    "account id",
)

ALL_TOPICS: tuple[TopicSpec, ...] = (
    CARRIER_INBOUND,
    CARRIER_STATUS,
    CARRIER_REJECTED,
    MESSAGE_RECEIVED,
    MESSAGE_SENT,
    MESSAGE_DELIVERY_FAILED,
    CONVERSATION_ASSIGNED,
    CONVERSATION_NOTE_ADDED,
    CONVERSATION_STATUS_CHANGED,
    CONVERSATION_READ,
    MESSAGE_STATUS_CHANGED,
    SMS_OUTBOUND_REQUESTED,
    SMS_OUTBOUND_STATUS,
    MESSAGING_SEND_REQUESTED,
    EXPORT_REQUESTED,
    EXPORT_COMPLETED,
    DMS_EVENTS,
    DMS_REJECTED,
    CUSTOMER_CHANGED,
    CONVERSATION_MERGED,
    PHONE_NUMBER_CHANGED,
    STAFF_INVITATION_SENT,
    STAFF_PASSWORD_RESET_REQUESTED,
    DEALERSHIP_PROVISIONED,
    DEALERSHIP_SUSPENDED,
    DEALERSHIP_RESUMED,
)


def all_topic_names() -> list[str]:
    names: list[str] = []
    for spec in ALL_TOPICS:
        names.append(spec.name)
        if spec.consumed:
            names.append(spec.dead_letter)
    return names


__all__ = ["ALL_TOPICS", "Event", "TopicSpec", "all_topic_names", "dead_letter_topic"]
