"""The statements an inbound text pays for at the full inbound rate, each one round trip: what
is known of the text's number, customer and conversation (read and locked together), and the
message stored with its conversation's update. Both are built once: at this rate building and
cache-keying a statement per text cost more than executing it."""

import json
from uuid import UUID, uuid4

from sqlalchemy import DateTime, Text, Uuid, bindparam, exists, func, select, text, update
from sqlalchemy.dialects.postgresql import insert

from routing.domain.inbox import message_preview
from routing.driver_statements import DriverStatement
from routing.messaging.usecases.last_message import latest_message_params, latest_message_values
from routing.tables import conversations, messages
from shared.contracts.carrier import CarrierInbound

# One row when the dealership number is the account's (none otherwise): the customer who has
# the number (customer_id NULL for a new one) and their display name; their active conversation,
# locked until commit, if any; and who is told of the text (the assignee, each member of the
# assigned team, nobody assigned: the account's active admins).
_KNOWN = (
    "SELECT true AS found, phone.customer_id,"
    " nullif(concat_ws(' ', customer.first_name, customer.last_name), '') AS customer_name,"
    " conversation.id AS conversation_id, conversation.status,"
    " conversation.assignee_user_id, conversation.assignee_team_id,"
    " CASE"
    "  WHEN conversation.assignee_user_id IS NOT NULL THEN ARRAY[conversation.assignee_user_id]"
    "  WHEN conversation.assignee_team_id IS NOT NULL THEN ARRAY("
    "   SELECT member.user_id FROM routing.team_members AS member"
    "   WHERE member.team_id = conversation.assignee_team_id)"
    "  ELSE ARRAY("
    "   SELECT admin.id FROM routing.users AS admin"
    "   WHERE admin.account_id = :account AND admin.role = 'admin' AND admin.active)"
    " END AS audience"
    " FROM routing.account_phone_numbers AS number"
    " LEFT JOIN routing.customer_phones AS phone"
    "  ON phone.account_id = number.account_id AND phone.e164 = :customer"
    " LEFT JOIN routing.customers AS customer ON customer.id = phone.customer_id"
    " LEFT JOIN LATERAL ("
    "  SELECT id, status, assignee_user_id, assignee_team_id FROM routing.conversations"
    "  WHERE account_id = :account AND customer_id = phone.customer_id AND status <> 'archived'"
    "  FOR UPDATE"
    " ) AS conversation ON true"
    " WHERE number.account_id = :account AND number.e164 = :dealership"
    " LIMIT 1"
)
KNOWN = DriverStatement(text(_KNOWN))
# KNOWN for each text of a batch in one round trip: a row per text (`position` its 1-based index
# in the arrays given), `found` null when the number is not the account's. Each conversation is
# locked as KNOWN locks it, in the texts' order.
KNOWN_EACH = DriverStatement(
    text(
        "SELECT given.position, known.* FROM unnest(CAST(:accounts AS uuid[]),"
        " CAST(:dealerships AS text[]), CAST(:customers AS text[])) WITH ORDINALITY"
        " AS given(account, dealership, customer, position)"
        " LEFT JOIN LATERAL ("
        + _KNOWN.replace(":account", "given.account")
        .replace(":dealership", "given.dealership")
        .replace(":customer", "given.customer")
        + ") AS known ON true ORDER BY given.position"
    )
)
# The event's claim (routing.processed_events) and KNOWN in one round trip, for a text handled
# alone: `claimed` false for an event seen before; `found` null when the number is not the
# account's.
CLAIMED_AND_KNOWN = text(
    "WITH claim AS ("
    " INSERT INTO routing.processed_events (consumer, event_id) VALUES (:consumer, :event_id)"
    " ON CONFLICT DO NOTHING RETURNING 1)"
    " SELECT EXISTS (SELECT 1 FROM claim) AS claimed, known.*"
    f" FROM (SELECT 1) AS one LEFT JOIN LATERAL ({_KNOWN}) AS known ON true"
)


def message_values(message_id: UUID, event: CarrierInbound, customer: str, dealership: str) -> dict:
    """The inbound message's columns but its conversation, by name (the statements' parameters)."""
    return {
        "id": message_id,
        "account_id": event.account_id,
        "direction": "inbound",
        "body": event.body,
        "attachments": [a.model_dump() for a in event.attachments],
        "carrier": event.carrier,
        "carrier_message_id": event.carrier_message_id,
        "from_e164": customer,
        "to_e164": dealership,
        "status": "received",
        "source_kind": "customer",
        "created_at": event.received_at,
    }


_COLUMNS = (
    "id",
    "account_id",
    "conversation_id",
    "direction",
    "body",
    "attachments",
    "carrier",
    "carrier_message_id",
    "from_e164",
    "to_e164",
    "status",
    "source_kind",
    "created_at",
)

# Stored once per carrier message id: the new message's id, or none for one stored before.
STORE_MESSAGE = (
    insert(messages)
    .values({name: bindparam(f"m_{name}", type_=messages.c[name].type) for name in _COLUMNS})
    .on_conflict_do_nothing(constraint="messages_carrier_id")
    .returning(messages.c.id)
)


def _store_in_conversation():
    stored = STORE_MESSAGE.cte("stored")
    at = bindparam("m_created_at", type_=DateTime(timezone=True))
    placeholders = latest_message_values(None, None, "inbound", None)  # values come with each text
    touched = (
        update(conversations)
        .where(conversations.c.id == bindparam("m_conversation_id", type_=Uuid), exists(select(stored.c.id)))
        .values(
            last_activity_at=func.greatest(conversations.c.last_activity_at, at),
            last_inbound_at=at,
            # Replies leave from the number the customer last wrote to.
            dealership_e164=bindparam("m_to_e164", type_=Text),
            **placeholders,
        )
        .returning(conversations.c.id)
        .cte("touched")
    )
    return select(stored.c.id).add_cte(touched)


# STORE_MESSAGE and, only if the message is new, the update of its (open) conversation: active,
# written to from that number, and the text its latest message unless a later one is stored;
# one statement (a data-modifying CTE runs whether or not the query reads it).
STORE_IN_CONVERSATION = DriverStatement(_store_in_conversation())


# latest_message_values' test, against a batch's latest new text in its conversation.
_NEWER = "(c.last_message_at IS NULL OR (c.last_message_at, c.last_message_id) < (latest.at, latest.id))"
# STORE_IN_CONVERSATION for each text of a batch (one row each in the arrays given, in the texts'
# order), in one statement: a statement per text cost PostgreSQL its executor, locks and the
# counters' trigger once per text. The messages are inserted in order (a carrier message id
# given twice is stored once, the first time); each conversation with a new message is updated
# once, to what its texts' updates one after the other leave: last written to (and from which
# number) by its last new text in order, active until the latest of them, and its latest message
# the latest in the timeline's order (created_at, id) of the one it had and its new texts. The
# rows: the ids of the new messages.
STORE_ALL_IN_CONVERSATIONS = DriverStatement(
    text(
        "WITH given AS (SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:accounts AS uuid[]),"
        " CAST(:conversations AS uuid[]), CAST(:bodies AS text[]), CAST(:previews AS text[]),"
        " CAST(:attachments AS text[]), CAST(:carriers AS text[]), CAST(:carrier_ids AS text[]),"
        " CAST(:froms AS text[]), CAST(:tos AS text[]), CAST(:ats AS timestamptz[]))"
        " WITH ORDINALITY AS g(id, account, conversation, body, preview, attachments, carrier,"
        " carrier_id, from_e164, to_e164, at, position)),"
        " stored AS ("
        "  INSERT INTO routing.messages (id, account_id, conversation_id, direction, body, attachments,"
        "   source_kind, carrier, carrier_message_id, status, from_e164, to_e164, created_at)"
        "  SELECT id, account, conversation, 'inbound', body, CAST(attachments AS jsonb), 'customer',"
        "   carrier, carrier_id, 'received', from_e164, to_e164, at FROM given ORDER BY position"
        "  ON CONFLICT ON CONSTRAINT messages_carrier_id DO NOTHING RETURNING id),"
        " new AS (SELECT * FROM given WHERE id IN (SELECT id FROM stored)),"
        " last_written AS (SELECT DISTINCT ON (conversation) conversation, at, to_e164 FROM new"
        "  ORDER BY conversation, position DESC),"
        " latest AS (SELECT DISTINCT ON (conversation) conversation, at, id, preview FROM new"
        "  ORDER BY conversation, at DESC, id DESC),"
        " touched AS ("
        "  UPDATE routing.conversations AS c SET"
        "   last_activity_at = greatest(c.last_activity_at, latest.at),"
        "   last_inbound_at = last_written.at,"
        "   dealership_e164 = last_written.to_e164,"
        "   last_message_at = CASE WHEN " + _NEWER + " THEN latest.at ELSE c.last_message_at END,"
        "   last_message_id = CASE WHEN " + _NEWER + " THEN latest.id ELSE c.last_message_id END,"
        "   last_message_preview = CASE WHEN " + _NEWER + " THEN latest.preview"
        "    ELSE c.last_message_preview END,"
        "   last_message_direction = CASE WHEN " + _NEWER + " THEN 'inbound'"
        "    ELSE c.last_message_direction END"
        "  FROM last_written JOIN latest USING (conversation)"
        "  WHERE c.id = last_written.conversation)"
        " SELECT id FROM stored"
    )
)


def store_all_params(texts: list[tuple[dict, UUID]]) -> dict:
    """STORE_ALL_IN_CONVERSATIONS' arrays for inbound messages (message_values), each with the
    conversation it goes to, in order."""
    return {
        "ids": [m["id"] for m, _ in texts],
        "accounts": [m["account_id"] for m, _ in texts],
        "conversations": [conversation for _, conversation in texts],
        "bodies": [m["body"] for m, _ in texts],
        "previews": [message_preview(m["body"]) for m, _ in texts],
        "attachments": [json.dumps(m["attachments"]) for m, _ in texts],
        "carriers": [m["carrier"] for m, _ in texts],
        "carrier_ids": [m["carrier_message_id"] for m, _ in texts],
        "froms": [m["from_e164"] for m, _ in texts],
        "tos": [m["to_e164"] for m, _ in texts],
        "ats": [m["created_at"] for m, _ in texts],
    }


def store_params(message: dict, conversation_id: UUID) -> dict:
    """The parameters of STORE_MESSAGE and STORE_IN_CONVERSATION for `message` (message_values)."""
    latest = latest_message_params(message["id"], message["created_at"], "inbound", message["body"])
    # Prefixed: parameters named as the updated table's columns would be taken as more SETs.
    return {
        **{f"m_{name}": value for name, value in message.items()},
        "m_conversation_id": conversation_id,
        **latest,
    }


def conversation_after_inbound(message: dict) -> dict:
    """SET values of the conversation after the inbound `message` (message_values), for one
    just reopened or found after its customer's statement."""
    at = message["created_at"]
    return {
        "last_activity_at": func.greatest(conversations.c.last_activity_at, at),
        "last_inbound_at": at,
        "dealership_e164": message["to_e164"],
        **latest_message_values(message["id"], at, "inbound", message["body"]),
    }


# New customers' first texts, one row each in the arrays given (sorted by account and number, so
# two batches claim the numbers they share in the same order): the phone (the account's number
# is unique: a number another transaction holds is skipped, after waiting for it to commit or
# roll back), and only for a phone claimed here the profile, the open conversation with its first
# message as latest, and the message (once per carrier message id). Per row: `created` whether
# the phone was claimed (if not, nothing of the row was written), `stored` whether the message
# was new. One statement: the foreign keys are checked at its end.
CREATE_CUSTOMERS = DriverStatement(
    text(
        "WITH given AS (SELECT * FROM unnest(CAST(:accounts AS uuid[]), CAST(:customers AS uuid[]),"
        " CAST(:phones AS uuid[]), CAST(:numbers AS text[]), CAST(:conversations AS uuid[]),"
        " CAST(:dealerships AS text[]), CAST(:messages AS uuid[]), CAST(:bodies AS text[]),"
        " CAST(:previews AS text[]), CAST(:attachments AS text[]), CAST(:carriers AS text[]),"
        " CAST(:carrier_ids AS text[]), CAST(:ats AS timestamptz[]))"
        " AS g(account, customer, phone, number, conversation, dealership, message, body, preview,"
        " attachments, carrier, carrier_id, at)),"
        " claimed AS ("
        "  INSERT INTO routing.customer_phones (id, account_id, customer_id, e164, kind)"
        "  SELECT phone, account, customer, number, 'mobile' FROM given"
        "  ON CONFLICT DO NOTHING RETURNING customer_id),"
        " profile AS ("
        "  INSERT INTO routing.customers (id, account_id)"
        "  SELECT customer, account FROM given WHERE customer IN (SELECT customer_id FROM claimed)"
        "  RETURNING id),"
        " conversation AS ("
        "  INSERT INTO routing.conversations (id, account_id, customer_id, status, dealership_e164,"
        "   last_activity_at, last_inbound_at, last_message_at, last_message_id, last_message_preview,"
        "   last_message_direction)"
        "  SELECT conversation, account, customer, 'open', dealership, at, at, at, message, preview,"
        "   'inbound'"
        "  FROM given WHERE customer IN (SELECT id FROM profile)"
        "  RETURNING id),"
        " stored AS ("
        "  INSERT INTO routing.messages (id, account_id, conversation_id, direction, body, attachments,"
        "   carrier, carrier_message_id, from_e164, to_e164, status, source_kind, created_at)"
        "  SELECT message, account, conversation, 'inbound', body, CAST(attachments AS jsonb), carrier,"
        "   carrier_id, number, dealership, 'received', 'customer', at"
        "  FROM given WHERE conversation IN (SELECT id FROM conversation)"
        "  ON CONFLICT ON CONSTRAINT messages_carrier_id DO NOTHING RETURNING id)"
        " SELECT given.customer,"
        " given.customer IN (SELECT customer_id FROM claimed) AS created,"
        " given.message IN (SELECT id FROM stored) AS stored"
        " FROM given"
    )
)


def create_customers_params(firsts: list[tuple[dict, UUID, UUID]]) -> dict:
    """CREATE_CUSTOMERS' arrays for new customers' first messages (message_values), each with its
    customer's and its conversation's new ids."""
    firsts = sorted(firsts, key=lambda first: (str(first[0]["account_id"]), first[0]["from_e164"]))
    return {
        "accounts": [m["account_id"] for m, _, _ in firsts],
        "customers": [customer for _, customer, _ in firsts],
        "phones": [uuid4() for _ in firsts],
        "numbers": [m["from_e164"] for m, _, _ in firsts],
        "conversations": [conversation for _, _, conversation in firsts],
        "dealerships": [m["to_e164"] for m, _, _ in firsts],
        "messages": [m["id"] for m, _, _ in firsts],
        "bodies": [m["body"] for m, _, _ in firsts],
        "previews": [message_preview(m["body"]) for m, _, _ in firsts],
        "attachments": [json.dumps(m["attachments"]) for m, _, _ in firsts],
        "carriers": [m["carrier"] for m, _, _ in firsts],
        "carrier_ids": [m["carrier_message_id"] for m, _, _ in firsts],
        "ats": [m["created_at"] for m, _, _ in firsts],
    }


# Closed conversations a text reopens: open again, and a "reopened" timeline event each just
# before its text (`ats`), as record_inbound_message does one at a time. The conversations were
# locked by KNOWN_EACH.
REOPEN = DriverStatement(
    text(
        "WITH given AS (SELECT * FROM unnest(CAST(:accounts AS uuid[]), CAST(:conversations AS uuid[]),"
        " CAST(:events AS uuid[]), CAST(:ats AS timestamptz[])) AS g(account, conversation, event, at)),"
        " reopened AS (UPDATE routing.conversations SET status = 'open'"
        "  WHERE id IN (SELECT conversation FROM given) RETURNING id)"
        " INSERT INTO routing.timeline_events (id, account_id, conversation_id, kind, data, created_at)"
        " SELECT event, account, conversation, 'reopened',"
        " jsonb_build_object('previous_status', 'closed', 'reason', 'message_received'), at"
        " FROM given WHERE conversation IN (SELECT id FROM reopened)"
    )
)
