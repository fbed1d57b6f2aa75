"""Outbound SMS: carrier credentials per account, one row per message (the idempotency record and
its state), per-sending-number rate-limit state.

Revision ID: 0002s
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002s"
down_revision = "0001"
branch_labels = None
depends_on = None

S = "notifier"


def upgrade() -> None:
    op.create_table(
        "carrier_accounts",
        sa.Column("account_id", sa.Uuid, primary_key=True),
        sa.Column("carrier", sa.Text, primary_key=True),
        # Twilio's AccountSid; empty for Telnyx.
        sa.Column("account_sid", sa.Text, nullable=True),
        # Twilio auth token or Telnyx API key. Never logged.
        sa.Column("secret", sa.Text, nullable=False),
        sa.Column("messaging_profile_id", sa.Text, nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("carrier IN ('twilio', 'telnyx')", name="carrier_accounts_known_carrier"),
        schema=S,
    )
    op.create_table(
        "outbound_messages",
        # One row per message id: a redelivered request finds it and texts nobody.
        sa.Column("message_id", sa.Uuid, primary_key=True),
        sa.Column("account_id", sa.Uuid, nullable=False),
        sa.Column("carrier", sa.Text, nullable=False),
        sa.Column("from_number", sa.Text, nullable=False),
        sa.Column("to_number", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        # The request as received, so a held message can be sent later exactly as asked.
        sa.Column("request", JSONB, nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("carrier_message_id", sa.Text, nullable=True),
        sa.Column("error_category", sa.Text, nullable=True),
        sa.Column("error_code", sa.Text, nullable=True),
        sa.Column("error_message", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint(
            "status IN ('scheduled', 'sending', 'sent', 'failed')", name="outbound_messages_status"
        ),
        schema=S,
    )
    op.create_index(
        "outbound_messages_due",
        "outbound_messages",
        ["not_before"],
        schema=S,
        postgresql_where=sa.text("status = 'scheduled'"),
    )
    op.create_index(
        "outbound_messages_orphaned",
        "outbound_messages",
        ["lease_until"],
        schema=S,
        postgresql_where=sa.text("status = 'sending'"),
    )
    op.create_table(
        "sending_numbers",
        sa.Column("from_number", sa.Text, primary_key=True),
        # The earliest moment the next text from this number may leave, shared by every replica.
        sa.Column("next_allowed_at", sa.DateTime(timezone=True), nullable=False),
        # Set while a text from this number is with the carrier (a lease, in case the sender dies).
        sa.Column("busy_until", sa.DateTime(timezone=True), nullable=True),
        # Overrides the default rate (long code / toll-free) for this number.
        sa.Column("per_second", sa.Float, nullable=True),
        sa.CheckConstraint("per_second IS NULL OR per_second > 0", name="sending_numbers_positive_rate"),
        schema=S,
    )


def downgrade() -> None:
    op.drop_table("sending_numbers", schema=S)
    op.drop_table("outbound_messages", schema=S)
    op.drop_table("carrier_accounts", schema=S)
