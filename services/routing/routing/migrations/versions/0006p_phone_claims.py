"""When a DMS event claimed each customer number: between two DMS records the later claim keeps
a number (routing/domain/merge.py). Record versions cannot decide it, as each record counts its
own. Numbers claimed before this revision have no stamp and lose to any stamped claim.

Revision ID: 0006p
"""

import sqlalchemy as sa
from alembic import op

revision = "0006p"
down_revision = "0005d"
branch_labels = None
depends_on = None

S = "routing"


def upgrade() -> None:
    # The claiming event's occurred_at, and its id to break a tie between equal times.
    op.add_column(
        "customer_phones", sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True), schema=S
    )
    op.add_column("customer_phones", sa.Column("claim_event_id", sa.Uuid, nullable=True), schema=S)


def downgrade() -> None:
    op.drop_column("customer_phones", "claim_event_id", schema=S)
    op.drop_column("customer_phones", "claimed_at", schema=S)
