"""routing's tables as SQLAlchemy Core, for queries. The migrations are the source of truth."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData(schema="routing")


def _id() -> sa.Column:
    return sa.Column("id", sa.Uuid, primary_key=True)


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


accounts = sa.Table(
    "accounts",
    metadata,
    _id(),
    sa.Column("name", sa.Text),
    sa.Column("time_zone", sa.Text),
    sa.Column("unanswered_after_hours", sa.Integer),
    sa.Column("auto_close_after_days", sa.Integer),
    sa.Column("help_text", sa.Text),
    _ts("created_at"),
    # active or suspended (by an operator; nothing is deleted), and the default staff language.
    sa.Column("status", sa.Text),
    _ts("status_changed_at"),
    sa.Column("language", sa.Text),
)
account_phone_numbers = sa.Table(
    "account_phone_numbers",
    metadata,
    _id(),
    sa.Column("account_id", sa.Uuid),
    sa.Column("e164", sa.Text),
    sa.Column("carrier", sa.Text),
    sa.Column("kind", sa.Text),
    _ts("created_at"),
)
# A person: one login (e-mail, password) across Switchboard, who may work at several dealerships
# of a group; ending their sessions (a password set or reset) ends them in every dealership.
people = sa.Table(
    "people",
    metadata,
    _id(),
    sa.Column("email", sa.Text),
    sa.Column("password_hash", sa.Text),
    _ts("sessions_valid_after"),
    sa.Column("last_account_id", sa.Uuid),
    _ts("created_at"),
)
# A person's seat in one dealership: what a staff token's subject is. `email` is a copy of the
# person's (a trigger keeps it so), for the readers that show it.
users = sa.Table(
    "users",
    metadata,
    _id(),
    sa.Column("account_id", sa.Uuid),
    sa.Column("person_id", sa.Uuid),
    sa.Column("email", sa.Text),
    sa.Column("name", sa.Text),
    sa.Column("role", sa.Text),
    sa.Column("active", sa.Boolean),
    _ts("deactivated_at"),
    _ts("created_at"),
    sa.Column("language", sa.Text),
    sa.Column("time_zone", sa.Text),
)
teams = sa.Table(
    "teams",
    metadata,
    _id(),
    sa.Column("account_id", sa.Uuid),
    sa.Column("name", sa.Text),
    _ts("created_at"),
)
team_members = sa.Table(
    "team_members",
    metadata,
    sa.Column("team_id", sa.Uuid, primary_key=True),
    sa.Column("user_id", sa.Uuid, primary_key=True),
)
customers = sa.Table(
    "customers",
    metadata,
    _id(),
    sa.Column("account_id", sa.Uuid),
    sa.Column("first_name", sa.Text),
    sa.Column("last_name", sa.Text),
    sa.Column("email", sa.Text),
    sa.Column("dms_customer_id", sa.Text),
    sa.Column("dms_record_version", sa.BigInteger),
    sa.Column("merged_into_customer_id", sa.Uuid),
    _ts("created_at"),
    _ts("updated_at"),
)
customer_phones = sa.Table(
    "customer_phones",
    metadata,
    _id(),
    sa.Column("account_id", sa.Uuid),
    sa.Column("customer_id", sa.Uuid),
    sa.Column("e164", sa.Text),
    sa.Column("kind", sa.Text),
    _ts("created_at"),
    _ts("claimed_at"),
    sa.Column("claim_event_id", sa.Uuid),
)
conversations = sa.Table(
    "conversations",
    metadata,
    _id(),
    sa.Column("account_id", sa.Uuid),
    sa.Column("customer_id", sa.Uuid),
    sa.Column("status", sa.Text),
    sa.Column("assignee_user_id", sa.Uuid),
    sa.Column("assignee_team_id", sa.Uuid),
    sa.Column("dealership_e164", sa.Text),
    sa.Column("merged_from_customer_id", sa.Uuid),
    _ts("owner_read_at"),
    _ts("last_activity_at"),
    _ts("last_inbound_at"),
    _ts("last_outbound_at"),
    # The latest message, kept by messaging/usecases/last_message.py: the inbox row's preview.
    _ts("last_message_at"),
    sa.Column("last_message_id", sa.Uuid),
    sa.Column("last_message_preview", sa.Text),
    sa.Column("last_message_direction", sa.Text),
    _ts("created_at"),
)
# The inbox menus' numbers: a ledger of +n / -n per group, appended by triggers on
# `conversations` (migration 0014c), summed by conversations/counts.py, settled by
# conversations/counters.py.
conversation_counters = sa.Table(
    "conversation_counters",
    metadata,
    sa.Column("account_id", sa.Uuid),
    sa.Column("status", sa.Text),
    sa.Column("assignee_user_id", sa.Uuid),
    sa.Column("assignee_team_id", sa.Uuid),
    sa.Column("is_read", sa.Boolean),
    sa.Column("is_unanswered", sa.Boolean),
    sa.Column("n", sa.Integer),
    sa.Column("settled", sa.Boolean),
)
messages = sa.Table(
    "messages",
    metadata,
    _id(),
    sa.Column("account_id", sa.Uuid),
    sa.Column("conversation_id", sa.Uuid),
    sa.Column("direction", sa.Text),
    sa.Column("body", sa.Text),
    sa.Column("attachments", JSONB),
    sa.Column("sender_user_id", sa.Uuid),
    sa.Column("source_kind", sa.Text),
    sa.Column("source_id", sa.Text),
    sa.Column("source_name", sa.Text),
    sa.Column("source_url", sa.Text),
    sa.Column("carrier", sa.Text),
    sa.Column("carrier_message_id", sa.Text),
    sa.Column("status", sa.Text),
    sa.Column("error_category", sa.Text),
    sa.Column("error_code", sa.Text),
    sa.Column("error_message", sa.Text),
    sa.Column("from_e164", sa.Text),
    sa.Column("to_e164", sa.Text),
    sa.Column("client_reference", sa.Text),
    _ts("status_updated_at"),
    _ts("created_at"),
)
outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("topic", sa.Text),
    sa.Column("key", sa.Text),
    sa.Column("payload", sa.LargeBinary),
    sa.Column("headers", JSONB),
    _ts("created_at"),
    _ts("published_at"),
)
read_marks = sa.Table(
    "read_marks",
    metadata,
    sa.Column("user_id", sa.Uuid, primary_key=True),
    sa.Column("conversation_id", sa.Uuid, primary_key=True),
    sa.Column("last_read_message_id", sa.Uuid),
    _ts("last_read_at"),
    _ts("updated_at"),
)
timeline_events = sa.Table(
    "timeline_events",
    metadata,
    _id(),
    sa.Column("account_id", sa.Uuid),
    sa.Column("conversation_id", sa.Uuid),
    sa.Column("kind", sa.Text),
    sa.Column("actor_user_id", sa.Uuid),
    sa.Column("data", JSONB),
    _ts("created_at"),
)
opt_outs = sa.Table(
    "opt_outs",
    metadata,
    sa.Column("account_id", sa.Uuid),
    sa.Column("customer_e164", sa.Text, primary_key=True),
    sa.Column("dealership_e164", sa.Text, primary_key=True),
    sa.Column("keyword", sa.Text),
    _ts("opted_out_at"),
)
saved_replies = sa.Table(
    "saved_replies",
    metadata,
    _id(),
    sa.Column("account_id", sa.Uuid),
    sa.Column("name", sa.Text),
    sa.Column("body", sa.Text),
    sa.Column("created_by_user_id", sa.Uuid),
    _ts("created_at"),
    _ts("updated_at"),
)
customer_notes = sa.Table(
    "customer_notes",
    metadata,
    _id(),
    sa.Column("account_id", sa.Uuid),
    sa.Column("customer_id", sa.Uuid),
    sa.Column("author_user_id", sa.Uuid),
    sa.Column("body", sa.Text),
    _ts("created_at"),
)


def _dms_record(name: str, dms_id: str, *columns: sa.Column) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        _id(),
        sa.Column("account_id", sa.Uuid),
        sa.Column(dms_id, sa.Text),
        sa.Column("dms_customer_id", sa.Text),
        *columns,
        sa.Column("record_version", sa.BigInteger),
        sa.Column("last_event_type", sa.Text),
        sa.Column("data", JSONB),
        _ts("created_at"),
        _ts("updated_at"),
    )


appointments = _dms_record(
    "appointments",
    "dms_appointment_id",
    sa.Column("status", sa.Text),
    _ts("starts_at"),
    _ts("ends_at"),
    sa.Column("appointment_type", sa.Text),
    sa.Column("advisor", sa.Text),
    sa.Column("vehicle", JSONB),
)
repair_orders = _dms_record(
    "repair_orders",
    "ro_number",
    sa.Column("status", sa.Text),
    sa.Column("vin", sa.Text),
    sa.Column("vehicle", JSONB),
    sa.Column("totals", JSONB),
)
payments = _dms_record(
    "payments",
    "dms_payment_id",
    sa.Column("ro_number", sa.Text),
    sa.Column("amount", sa.Numeric(14, 2)),
    sa.Column("currency", sa.Text),
    _ts("paid_at"),
)
invitations = sa.Table(
    "invitations",
    metadata,
    _id(),
    sa.Column("account_id", sa.Uuid),
    sa.Column("email", sa.Text),
    sa.Column("name", sa.Text),
    sa.Column("role", sa.Text),
    sa.Column("team_ids", sa.ARRAY(sa.Uuid)),
    sa.Column("language", sa.Text),
    sa.Column("token_digest", sa.Text),
    sa.Column("invited_by_user_id", sa.Uuid),
    _ts("created_at"),
    _ts("expires_at"),
    _ts("accepted_at"),
    _ts("revoked_at"),
    sa.Column("user_id", sa.Uuid),
)
password_resets = sa.Table(
    "password_resets",
    metadata,
    _id(),
    sa.Column("user_id", sa.Uuid),
    sa.Column("token_digest", sa.Text),
    _ts("created_at"),
    _ts("expires_at"),
    _ts("used_at"),
)
# Operator API (routing/platform): one line per call, and the kept answers of idempotent creates.
platform_audit = sa.Table(
    "platform_audit",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    _ts("at"),
    sa.Column("operator_name", sa.Text),
    sa.Column("operator_fingerprint", sa.Text),
    sa.Column("action", sa.Text),
    sa.Column("account_id", sa.Uuid),
    sa.Column("outcome", sa.Text),
    sa.Column("details", JSONB),
)
platform_idempotency = sa.Table(
    "platform_idempotency",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("request_digest", sa.Text),
    sa.Column("account_id", sa.Uuid),
    sa.Column("response", sa.LargeBinary),
    _ts("created_at"),
)
# Carriers' receipts that came before the text's carrier message id was known (0013r).
early_carrier_receipts = sa.Table(
    "early_carrier_receipts",
    metadata,
    sa.Column("event_id", sa.Uuid, primary_key=True),
    sa.Column("arrival", sa.BigInteger),
    sa.Column("account_id", sa.Uuid),
    sa.Column("carrier", sa.Text),
    sa.Column("carrier_message_id", sa.Text),
    sa.Column("status", sa.Text),
    sa.Column("error_category", sa.Text),
    sa.Column("error_code", sa.Text),
    sa.Column("error_message", sa.Text),
    _ts("occurred_at"),
    _ts("received_at"),
)
