"""Accounts, staff, customers, conversations, messages, outbox.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from shared.db.idempotency import create_processed_events_table

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

S = "routing"


def _id() -> sa.Column:
    return sa.Column("id", sa.Uuid, primary_key=True)


def _created() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def _account() -> sa.Column:
    return sa.Column("account_id", sa.Uuid, sa.ForeignKey(f"{S}.accounts.id"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "accounts",
        _id(),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("time_zone", sa.Text, nullable=False, server_default="America/Toronto"),
        sa.Column("unanswered_after_hours", sa.Integer, nullable=False, server_default="4"),
        sa.Column("auto_close_after_days", sa.Integer, nullable=True),
        sa.Column("help_text", sa.Text, nullable=True),
        _created(),
        schema=S,
    )
    op.create_table(
        "account_phone_numbers",
        _id(),
        _account(),
        sa.Column("e164", sa.Text, nullable=False, unique=True),
        sa.Column("carrier", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False, server_default="long_code"),
        _created(),
        schema=S,
    )
    op.create_table(
        "users",
        _id(),
        _account(),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        _created(),
        sa.CheckConstraint("role IN ('admin', 'agent')", name="users_role"),
        schema=S,
    )
    op.create_index("users_email", "users", [sa.text("lower(email)")], unique=True, schema=S)
    op.create_table(
        "teams",
        _id(),
        _account(),
        sa.Column("name", sa.Text, nullable=False),
        _created(),
        sa.UniqueConstraint("account_id", "name"),
        schema=S,
    )
    op.create_table(
        "team_members",
        sa.Column("team_id", sa.Uuid, sa.ForeignKey(f"{S}.teams.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.Uuid, sa.ForeignKey(f"{S}.users.id", ondelete="CASCADE"), primary_key=True),
        schema=S,
    )
    op.create_table(
        "customers",
        _id(),
        _account(),
        sa.Column("first_name", sa.Text, nullable=True),
        sa.Column("last_name", sa.Text, nullable=True),
        sa.Column("email", sa.Text, nullable=True),
        sa.Column("dms_customer_id", sa.Text, nullable=True),
        _created(),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=S,
    )
    op.create_table(
        "customer_phones",
        _id(),
        _account(),
        sa.Column("customer_id", sa.Uuid, sa.ForeignKey(f"{S}.customers.id"), nullable=False, index=True),
        sa.Column("e164", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False, server_default="unknown"),
        _created(),
        sa.UniqueConstraint("account_id", "e164"),
        sa.CheckConstraint("kind IN ('mobile', 'landline', 'unknown')", name="customer_phones_kind"),
        schema=S,
    )
    op.create_table(
        "conversations",
        _id(),
        _account(),
        sa.Column("customer_id", sa.Uuid, sa.ForeignKey(f"{S}.customers.id"), nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="open"),
        sa.Column("assignee_user_id", sa.Uuid, sa.ForeignKey(f"{S}.users.id"), nullable=True),
        sa.Column("assignee_team_id", sa.Uuid, sa.ForeignKey(f"{S}.teams.id"), nullable=True),
        sa.Column(
            "last_activity_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.now(),
        ),
        sa.Column("last_inbound_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_outbound_at", sa.DateTime(timezone=True), nullable=True),
        _created(),
        sa.CheckConstraint("status IN ('open', 'closed', 'archived')", name="conversations_status"),
        sa.CheckConstraint(
            "assignee_user_id IS NULL OR assignee_team_id IS NULL",
            name="conversations_one_assignee",
        ),
        schema=S,
    )
    # One active (not archived) conversation per customer.
    op.create_index(
        "conversations_one_active",
        "conversations",
        ["customer_id"],
        unique=True,
        schema=S,
        postgresql_where=sa.text("status <> 'archived'"),
    )
    op.create_index(
        "conversations_inbox",
        "conversations",
        ["account_id", sa.text("last_activity_at DESC"), "id"],
        schema=S,
    )
    op.create_table(
        "messages",
        _id(),
        _account(),
        sa.Column("conversation_id", sa.Uuid, sa.ForeignKey(f"{S}.conversations.id"), nullable=False),
        sa.Column("direction", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False, server_default=""),
        sa.Column("attachments", JSONB, nullable=False, server_default="[]"),
        sa.Column("sender_user_id", sa.Uuid, sa.ForeignKey(f"{S}.users.id"), nullable=True),
        sa.Column("source_kind", sa.Text, nullable=False, server_default="manual"),
        sa.Column("source_id", sa.Text, nullable=True),
        sa.Column("source_name", sa.Text, nullable=True),
        sa.Column("source_url", sa.Text, nullable=True),
        sa.Column("carrier", sa.Text, nullable=True),
        sa.Column("carrier_message_id", sa.Text, nullable=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("error_category", sa.Text, nullable=True),
        sa.Column("error_code", sa.Text, nullable=True),
        _created(),
        sa.CheckConstraint("direction IN ('inbound', 'outbound')", name="messages_direction"),
        sa.UniqueConstraint("account_id", "carrier", "carrier_message_id", name="messages_carrier_id"),
        schema=S,
    )
    op.create_index("messages_timeline", "messages", ["conversation_id", "created_at", "id"], schema=S)
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("headers", JSONB, nullable=False, server_default="{}"),
        _created(),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        schema=S,
    )
    op.create_index(
        "outbox_pending",
        "outbox",
        ["id"],
        schema=S,
        postgresql_where=sa.text("published_at IS NULL"),
    )
    create_processed_events_table(S)
