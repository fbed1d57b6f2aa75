"""notifier's projection of suspended dealerships, from routing's `dealership.suspended.v1` and
`dealership.resumed.v1`: a suspended dealership's staff are refused and its queued texts are
held (never dropped) until it resumes. One row per account that was ever suspended; the newest
change wins (the two events travel on different topics, so they may arrive out of order).

Revision ID: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

S = "notifier"


def upgrade() -> None:
    op.create_table(
        "account_suspensions",
        sa.Column("account_id", sa.Uuid, primary_key=True),
        sa.Column("suspended", sa.Boolean, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        schema=S,
    )


def downgrade() -> None:
    op.drop_table("account_suspensions", schema=S)
