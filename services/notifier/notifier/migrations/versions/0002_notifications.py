"""Read state, per-user e-mail preferences, the account's recipients for unassigned
conversations, and the e-mail outbox.

Revision ID: 0002n
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0002n"
down_revision = "0001"
branch_labels = None
depends_on = None

S = "notifier"


def upgrade() -> None:
    # The unread count and "mark all read" only look at unread rows.
    op.create_index(
        "notifications_unread",
        "notifications",
        ["account_id", "user_id"],
        schema=S,
        postgresql_where=sa.text("read_at IS NULL"),
    )
    op.create_table(
        "email_preferences",
        sa.Column("account_id", sa.Uuid, nullable=False),
        sa.Column("user_id", sa.Uuid, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("by_email", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("account_id", "user_id", "kind"),
        schema=S,
    )
    op.create_table(
        "unassigned_recipients",
        sa.Column("account_id", sa.Uuid, primary_key=True),
        sa.Column("user_ids", ARRAY(sa.Uuid), nullable=False),
        sa.Column("updated_by", sa.Uuid, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=S,
    )
    op.create_table(
        "email_outbox",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("account_id", sa.Uuid, nullable=False),
        sa.Column("user_id", sa.Uuid, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("source_event_id", sa.Uuid, nullable=False),
        sa.Column("notification_id", sa.BigInteger, nullable=True),
        # What the templates are rendered with, at sending time.
        sa.Column("context", JSONB, nullable=False, server_default="{}"),
        sa.Column("status", sa.Text, nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column(
            "next_attempt_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("to_address", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name="email_outbox_status"),
        sa.UniqueConstraint("source_event_id", "user_id", name="email_outbox_once_per_event"),
        schema=S,
    )
    op.create_index(
        "email_outbox_due",
        "email_outbox",
        ["next_attempt_at"],
        schema=S,
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_table("email_outbox", schema=S)
    op.drop_table("unassigned_recipients", schema=S)
    op.drop_table("email_preferences", schema=S)
    op.drop_index("notifications_unread", table_name="notifications", schema=S)
