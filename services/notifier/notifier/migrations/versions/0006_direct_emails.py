"""E-mails to an address rather than to a known user: an invitation goes to someone who is not a
user yet, a password reset to the address the user has. `user_id` becomes optional; such a row
names its recipient and is queued once per event.

Revision ID: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

S = "notifier"


def upgrade() -> None:
    op.alter_column("email_outbox", "user_id", nullable=True, schema=S)
    op.add_column("email_outbox", sa.Column("recipient_email", sa.Text, nullable=True), schema=S)
    op.add_column("email_outbox", sa.Column("recipient_name", sa.Text, nullable=True), schema=S)
    op.create_check_constraint(
        "email_outbox_has_recipient",
        "email_outbox",
        "user_id IS NOT NULL OR recipient_email IS NOT NULL",
        schema=S,
    )
    op.create_index(
        "email_outbox_direct_once_per_event",
        "email_outbox",
        ["source_event_id"],
        unique=True,
        schema=S,
        postgresql_where=sa.text("user_id IS NULL"),
    )


def downgrade() -> None:
    op.execute(f"DELETE FROM {S}.email_outbox WHERE user_id IS NULL")
    op.drop_index("email_outbox_direct_once_per_event", table_name="email_outbox", schema=S)
    op.drop_constraint("email_outbox_has_recipient", "email_outbox", schema=S)
    op.drop_column("email_outbox", "recipient_name", schema=S)
    op.drop_column("email_outbox", "recipient_email", schema=S)
    op.alter_column("email_outbox", "user_id", nullable=False, schema=S)
