"""Telnyx credentials: the account's public key (Ed25519, base64) and the numbers that tell us
which account a webhook belongs to.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = "ingest"


def upgrade() -> None:
    op.create_table(
        "telnyx_accounts",
        sa.Column("account_id", sa.Uuid, primary_key=True),
        sa.Column("public_key", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        schema=SCHEMA,
    )
    # A Telnyx webhook names the dealership's number, not an account: the number says whose it is.
    op.create_table(
        "telnyx_numbers",
        sa.Column("e164", sa.Text, primary_key=True),
        sa.Column(
            "account_id",
            sa.Uuid,
            sa.ForeignKey(f"{SCHEMA}.telnyx_accounts.account_id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("telnyx_numbers", schema=SCHEMA)
    op.drop_table("telnyx_accounts", schema=SCHEMA)
