"""Carriers' delivery receipts that came before notifier named the text's carrier message id (an
outage lets `carrier.status.v1` overtake `sms.outbound_status.v1`): kept here, one row per
receipt event, until that report arrives and applies them (routing/messaging/usecases/
early_receipts.py). A receipt that never matches stays: nothing is dead-lettered or lost.

Revision ID: 0013r
"""

import sqlalchemy as sa
from alembic import op

revision = "0013r"
down_revision = "0012t"
branch_labels = None
depends_on = None

S = "routing"


def upgrade() -> None:
    op.create_table(
        "early_carrier_receipts",
        # The receipt's event id: the same receipt delivered twice is kept once.
        sa.Column("event_id", sa.Uuid, primary_key=True),
        # The order receipts came in, for those with the same carrier time.
        sa.Column("arrival", sa.BigInteger, sa.Identity(), nullable=False, unique=True),
        sa.Column("account_id", sa.Uuid, nullable=False),
        sa.Column("carrier", sa.Text, nullable=False),
        sa.Column("carrier_message_id", sa.Text, nullable=False),
        # The carrier's own word, mapped when applied (a word learnt later then maps too).
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("error_category", sa.Text),
        sa.Column("error_code", sa.Text),
        sa.Column("error_message", sa.Text),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=S,
    )
    op.create_index(
        "early_carrier_receipts_text",
        "early_carrier_receipts",
        ["account_id", "carrier", "carrier_message_id"],
        schema=S,
    )


def downgrade() -> None:
    op.drop_table("early_carrier_receipts", schema=S)
