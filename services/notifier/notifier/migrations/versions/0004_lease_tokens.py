"""Lease tokens: whoever leases an outbound message or an e-mail gets a fresh token, and only a
write carrying the current token counts (a replica whose lease ran out changes nothing).
Drops sending_numbers.per_second: nothing ever wrote it; RATE_PER_NUMBER sets a number's rate.

Revision ID: 0004l
"""

import sqlalchemy as sa
from alembic import op

revision = "0004l"
down_revision = "0003"
branch_labels = None
depends_on = None

S = "notifier"


def upgrade() -> None:
    op.add_column("outbound_messages", sa.Column("lease_token", sa.Uuid, nullable=True), schema=S)
    op.add_column("email_outbox", sa.Column("lease_token", sa.Uuid, nullable=True), schema=S)
    # Its check constraint goes with it.
    op.drop_column("sending_numbers", "per_second", schema=S)


def downgrade() -> None:
    op.add_column("sending_numbers", sa.Column("per_second", sa.Float, nullable=True), schema=S)
    op.create_check_constraint(
        "sending_numbers_positive_rate", "sending_numbers", "per_second IS NULL OR per_second > 0", schema=S
    )
    op.drop_column("email_outbox", "lease_token", schema=S)
    op.drop_column("outbound_messages", "lease_token", schema=S)
