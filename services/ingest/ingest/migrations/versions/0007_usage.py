"""Usage: one row per text received (webhook or catch-up), read back from carrier.inbound.v1 and
keyed by the carrier's message id, so a text counts once however often it is delivered; the
operator's monthly count per dealership reads the (account, received_at) index.

Revision ID: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

SCHEMA = "ingest"


def upgrade() -> None:
    op.create_table(
        "usage_texts_in",
        sa.Column("carrier", sa.Text, primary_key=True),
        sa.Column("message_id", sa.Text, primary_key=True),
        sa.Column("account_id", sa.Uuid, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=SCHEMA,
    )
    op.create_index(
        "usage_texts_in_by_account", "usage_texts_in", ["account_id", "received_at"], schema=SCHEMA
    )


def downgrade() -> None:
    op.drop_table("usage_texts_in", schema=SCHEMA)
