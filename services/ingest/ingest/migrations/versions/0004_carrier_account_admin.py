"""Carrier credentials set by admins through the API: when each was last changed, and Telnyx
numbers kept whether or not their account has a public key yet.

Before, a Telnyx number was only recorded once its account had a key (a foreign key to
telnyx_accounts, cascading on delete), so the numbers an admin added before setting the key were
never verified, and removing a key forgot every number. Now the numbers follow routing on their
own and a webhook is only accepted when both the number and its account's key are there.

Revision ID: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003d"
branch_labels = None
depends_on = None

SCHEMA = "ingest"


def upgrade() -> None:
    for table in ("twilio_accounts", "telnyx_accounts"):
        op.add_column(
            table,
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
            schema=SCHEMA,
        )
        op.execute(f"UPDATE {SCHEMA}.{table} SET updated_at = coalesce(created_at, now())")
    op.execute(
        f"ALTER TABLE {SCHEMA}.telnyx_numbers DROP CONSTRAINT IF EXISTS telnyx_numbers_account_id_fkey"
    )


def downgrade() -> None:
    op.execute(
        f"DELETE FROM {SCHEMA}.telnyx_numbers n WHERE NOT EXISTS"
        f" (SELECT 1 FROM {SCHEMA}.telnyx_accounts a WHERE a.account_id = n.account_id)"
    )
    op.create_foreign_key(
        "telnyx_numbers_account_id_fkey",
        "telnyx_numbers",
        "telnyx_accounts",
        ["account_id"],
        ["account_id"],
        source_schema=SCHEMA,
        referent_schema=SCHEMA,
        ondelete="CASCADE",
    )
    for table in ("twilio_accounts", "telnyx_accounts"):
        op.drop_column(table, "updated_at", schema=SCHEMA)
