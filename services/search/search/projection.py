"""Writes the projection from events. Every function is safe to call twice with the same event and
in any order with respect to other events: rows are keyed by their record, and a version (the
DMS's `record_version`, or when the event happened) decides which of two states is kept."""

from datetime import datetime
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts.conversation import ConversationStatusChanged, MessageReceived, MessageSent
from shared.contracts.customer import ConversationMerged, CustomerChanged
from shared.contracts.dms import AppointmentEvent, DmsEnvelope, PaymentRecorded, RepairOrderEvent

# Once archived (merged into another customer), a conversation stays archived.
ARCHIVED = "archived"

PROJECTION_TABLES = (
    "search.customer_phones",
    "search.customers",
    "search.conversations",
    "search.messages",
    "search.appointments",
    "search.repair_orders",
    "search.payments",
    "search.processed_events",
)


def version_of(moment: datetime) -> int:
    """A profile version from the time its event was written (microseconds since 1970)."""
    return int(moment.timestamp() * 1_000_000)


async def _ensure_customer(session: AsyncSession, account_id: UUID, customer_id: UUID) -> None:
    await session.execute(
        text(
            "INSERT INTO search.customers (customer_id, account_id) VALUES (:c, :a)"
            " ON CONFLICT (customer_id) DO NOTHING"
        ),
        {"c": customer_id, "a": account_id},
    )


# One statement per message (it is the busiest path): the customer (created when new, its last
# activity and that of the profile it was merged into moved forward, and, until routing's profile
# arrives, the name and number the message came with), the conversation, the message.
_RECORD_MESSAGE = """
WITH customer AS (
  INSERT INTO search.customers (customer_id, account_id, display_name, last_activity_at)
  VALUES (:c, :a, CAST(:n AS text), :t)
  ON CONFLICT (customer_id) DO UPDATE SET
    last_activity_at = greatest(search.customers.last_activity_at, excluded.last_activity_at),
    display_name = CASE WHEN search.customers.profile_version = 0 AND search.customers.display_name IS NULL
                        THEN excluded.display_name ELSE search.customers.display_name END
  WHERE search.customers.account_id = excluded.account_id
  RETURNING merged_into_customer_id, profile_version
), survivor AS (
  UPDATE search.customers s SET last_activity_at = greatest(s.last_activity_at, :t)
  FROM customer WHERE s.customer_id = customer.merged_into_customer_id AND s.account_id = :a
), phone AS (
  INSERT INTO search.customer_phones (customer_id, e164, account_id)
  SELECT :c, CAST(:p AS text), :a FROM customer
  WHERE CAST(:p AS text) IS NOT NULL AND customer.profile_version = 0
    AND customer.merged_into_customer_id IS NULL
  ON CONFLICT DO NOTHING
), conversation AS (
  INSERT INTO search.conversations (conversation_id, account_id, customer_id, last_activity_at)
  VALUES (:v, :a, :c, :t)
  ON CONFLICT (conversation_id) DO UPDATE SET
    -- A merge may already have moved the conversation to its surviving customer.
    customer_id = coalesce(search.conversations.customer_id, excluded.customer_id),
    last_activity_at = greatest(search.conversations.last_activity_at, excluded.last_activity_at)
  WHERE search.conversations.account_id = excluded.account_id
  -- The upsert locks the conversation row, so a concurrent status change waits for this message
  -- (and then updates its copy of the status) or has already committed (and this reads it).
  RETURNING status
)
INSERT INTO search.messages (message_id, account_id, conversation_id, customer_id, customer_name,
  customer_phone, body, sent_at, direction, conversation_status)
VALUES (:m, :a, :v, :c, CAST(:n AS text), CAST(:p AS text), :b, :t, :d,
  coalesce((SELECT status FROM conversation), 'open'))
ON CONFLICT (message_id) DO NOTHING
"""


def _message_row(event: MessageReceived | MessageSent) -> dict:
    """`_RECORD_MESSAGE`'s parameters for a text in or out."""
    inbound = isinstance(event, MessageReceived)
    return {
        "m": event.message_id,
        "a": event.account_id,
        "v": event.conversation_id,
        "c": event.customer_id,
        "n": event.customer_name if inbound else None,
        "p": event.customer_phone if inbound else None,
        "b": event.body,
        "t": event.received_at if inbound else event.created_at,
        "d": "inbound" if inbound else "outbound",
    }


async def apply_message_received(session: AsyncSession, event: MessageReceived) -> None:
    await apply_messages(session, [event])


async def apply_message_sent(session: AsyncSession, event: MessageSent) -> None:
    await apply_messages(session, [event])


async def apply_messages(session: AsyncSession, events: list[MessageReceived | MessageSent]) -> None:
    """Several texts in their order, in one round trip (asyncpg pipelines an executemany): what a
    batch of the inbound rate costs PostgreSQL is a statement per text, the round trips one."""
    if len(events) == 1:
        await session.execute(text(_RECORD_MESSAGE), _message_row(events[0]))
    elif events:
        await session.execute(text(_RECORD_MESSAGE), [_message_row(event) for event in events])


async def _copy_status_to_messages(session: AsyncSession, conversation_id: UUID, account_id: UUID) -> None:
    """Each message keeps its conversation's status, for the index that filters words by it."""
    await session.execute(
        text(
            "UPDATE search.messages m SET conversation_status = v.status FROM search.conversations v"
            " WHERE v.conversation_id = :v AND v.account_id = :a AND m.conversation_id = :v"
            " AND m.conversation_status <> v.status"
        ),
        {"v": conversation_id, "a": account_id},
    )


async def apply_status_changed(session: AsyncSession, event: ConversationStatusChanged) -> None:
    await session.execute(
        text(
            "INSERT INTO search.conversations (conversation_id, account_id, status, status_at)"
            " VALUES (:v, :a, :s, :t) ON CONFLICT (conversation_id) DO UPDATE SET"
            " status = excluded.status, status_at = excluded.status_at"
            " WHERE search.conversations.account_id = excluded.account_id"
            " AND search.conversations.status <> :archived"
            " AND search.conversations.status_at < excluded.status_at"
        ),
        {
            "v": event.conversation_id,
            "a": event.account_id,
            "s": event.status,
            "t": event.occurred_at,
            "archived": ARCHIVED,
        },
    )
    await _copy_status_to_messages(session, event.conversation_id, event.account_id)


async def apply_customer_changed(session: AsyncSession, event: CustomerChanged) -> None:
    """The full profile replaces an older one; an older profile arriving later changes nothing."""
    name = " ".join(part for part in (event.first_name, event.last_name) if part) or None
    updated = await session.execute(
        text(
            "INSERT INTO search.customers (customer_id, account_id, first_name, last_name, display_name,"
            " email, dms_customer_id, merged_into_customer_id, profile_version)"
            " VALUES (:c, :a, :f, :l, :n, :e, :d, :m, :ver)"
            " ON CONFLICT (customer_id) DO UPDATE SET first_name = excluded.first_name,"
            " last_name = excluded.last_name, display_name = excluded.display_name,"
            " email = excluded.email, dms_customer_id = excluded.dms_customer_id,"
            " merged_into_customer_id = coalesce(excluded.merged_into_customer_id,"
            "   search.customers.merged_into_customer_id),"
            " profile_version = excluded.profile_version"
            " WHERE search.customers.account_id = excluded.account_id"
            " AND search.customers.profile_version < excluded.profile_version"
            " RETURNING 1"
        ),
        {
            "c": event.customer_id,
            "a": event.account_id,
            "f": event.first_name,
            "l": event.last_name,
            "n": name,
            "e": event.email,
            "d": event.dms_customer_id,
            "m": event.merged_into_customer_id,
            "ver": version_of(event.occurred_at),
        },
    )
    if updated.scalar() is None:
        return
    await session.execute(
        text("DELETE FROM search.customer_phones WHERE customer_id = :c"), {"c": event.customer_id}
    )
    for phone in event.phones:
        await session.execute(
            text(
                "INSERT INTO search.customer_phones (customer_id, e164, account_id, kind)"
                " VALUES (:c, :p, :a, :k) ON CONFLICT DO NOTHING"
            ),
            {"c": event.customer_id, "p": phone.e164, "a": event.account_id, "k": phone.kind},
        )
    if event.merged_into_customer_id:
        await _merge_customers(session, event.account_id, event.merged_into_customer_id, event.customer_id)


async def _merge_customers(session: AsyncSession, account_id: UUID, surviving: UUID, merged: UUID) -> None:
    await _ensure_customer(session, account_id, surviving)
    await _ensure_customer(session, account_id, merged)
    await session.execute(
        text(
            "UPDATE search.customers SET merged_into_customer_id = :s"
            " WHERE customer_id = :m AND account_id = :a AND merged_into_customer_id IS NULL"
        ),
        {"s": surviving, "m": merged, "a": account_id},
    )
    await session.execute(
        text(
            "UPDATE search.customers s"
            " SET last_activity_at = greatest(s.last_activity_at, m.last_activity_at)"
            " FROM search.customers m WHERE s.customer_id = :s AND m.customer_id = :m"
            " AND s.account_id = :a AND m.account_id = :a"
        ),
        {"s": surviving, "m": merged, "a": account_id},
    )


async def apply_conversation_merged(session: AsyncSession, event: ConversationMerged) -> None:
    await _merge_customers(session, event.account_id, event.surviving_customer_id, event.merged_customer_id)
    moved = list(event.moved_conversation_ids)
    if event.archived_conversation_id and event.archived_conversation_id not in moved:
        moved.append(event.archived_conversation_id)
    for conversation_id in moved:
        await session.execute(
            text(
                "INSERT INTO search.conversations (conversation_id, account_id, customer_id)"
                " VALUES (:v, :a, :c) ON CONFLICT (conversation_id)"
                " DO UPDATE SET customer_id = excluded.customer_id"
                " WHERE search.conversations.account_id = excluded.account_id"
            ),
            {"v": conversation_id, "a": event.account_id, "c": event.surviving_customer_id},
        )
    if event.archived_conversation_id:
        await session.execute(
            text(
                "UPDATE search.conversations SET status = :archived, status_at = greatest(status_at, :t)"
                " WHERE conversation_id = :v AND account_id = :a"
            ),
            {
                "v": event.archived_conversation_id,
                "a": event.account_id,
                "t": event.occurred_at,
                "archived": ARCHIVED,
            },
        )
        await _copy_status_to_messages(session, event.archived_conversation_id, event.account_id)


async def apply_dms_event(session: AsyncSession, event: DmsEnvelope) -> None:
    """Appointments, repair orders and payments; DMS customers reach search through routing's
    `customer.changed.v1` (routing decides which profile a DMS customer is)."""
    if isinstance(event, AppointmentEvent):
        await _apply_appointment(session, event)
    elif isinstance(event, RepairOrderEvent):
        await _apply_repair_order(session, event)
    elif isinstance(event, PaymentRecorded):
        await _apply_payment(session, event)


async def _apply_appointment(session: AsyncSession, event: AppointmentEvent) -> None:
    p = event.payload
    await session.execute(
        text(
            "INSERT INTO search.appointments (account_id, appointment_id, dms_customer_id, appointment_type,"
            " starts_at, cancelled, record_version) VALUES (:a, :id, :d, :ty, :t, :x, :ver)"
            " ON CONFLICT (account_id, appointment_id)"
            " DO UPDATE SET dms_customer_id = excluded.dms_customer_id,"
            " appointment_type = excluded.appointment_type, starts_at = excluded.starts_at,"
            " cancelled = excluded.cancelled, record_version = excluded.record_version"
            " WHERE search.appointments.record_version < excluded.record_version"
        ),
        {
            "a": event.account_id,
            "id": p.appointment_id,
            "d": p.dms_customer_id,
            "ty": p.appointment_type,
            "t": p.starts_at,
            "x": event.type == "appointment.cancelled",
            "ver": event.record_version,
        },
    )


async def _apply_repair_order(session: AsyncSession, event: RepairOrderEvent) -> None:
    p = event.payload
    closed = event.type == "repair_order.closed" or p.closed_on is not None
    await session.execute(
        text(
            "INSERT INTO search.repair_orders (account_id, ro_number, dms_customer_id, vin, status,"
            " record_version) VALUES (:a, :ro, :d, :vin, :s, :ver)"
            " ON CONFLICT (account_id, ro_number) DO UPDATE SET dms_customer_id = excluded.dms_customer_id,"
            " vin = excluded.vin, status = excluded.status, record_version = excluded.record_version"
            " WHERE search.repair_orders.record_version < excluded.record_version"
        ),
        {
            "a": event.account_id,
            "ro": p.ro_number,
            "d": p.dms_customer_id,
            "vin": p.vin or (p.vehicle.vin if p.vehicle else None),
            "s": "closed" if closed else "open",
            "ver": event.record_version,
        },
    )


async def _apply_payment(session: AsyncSession, event: PaymentRecorded) -> None:
    p = event.payload
    await session.execute(
        text(
            "INSERT INTO search.payments (account_id, payment_id, dms_customer_id, ro_number, amount,"
            " currency, paid_at, record_version) VALUES (:a, :id, :d, :ro, :amt, :cur, :t, :ver)"
            " ON CONFLICT (account_id, payment_id) DO UPDATE SET dms_customer_id = excluded.dms_customer_id,"
            " ro_number = excluded.ro_number, amount = excluded.amount, currency = excluded.currency,"
            " paid_at = excluded.paid_at, record_version = excluded.record_version"
            " WHERE search.payments.record_version < excluded.record_version"
        ),
        {
            "a": event.account_id,
            "id": p.payment_id,
            "d": p.dms_customer_id,
            "ro": p.ro_number,
            "amt": p.amount,
            "cur": p.currency,
            "t": p.paid_at,
            "ver": event.record_version,
        },
    )
