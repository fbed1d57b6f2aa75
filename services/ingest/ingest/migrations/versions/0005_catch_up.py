"""Catch-up from the carriers' APIs: the dealership numbers ingest lists texts for (both
carriers, kept from routing's `phone_number.changed.v1`) with each one's checkpoint, lease and last
problem; the Telnyx API key catch-up lists with (Twilio's auth token already serves its REST API);
and the outbound texts still waiting for a final status.

Revision ID: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SCHEMA = "ingest"
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "catch_up_numbers",
        sa.Column("e164", sa.Text, primary_key=True),
        sa.Column("carrier", sa.Text, nullable=False),
        sa.Column("account_id", sa.Uuid, nullable=False, index=True),
        # Texts the carrier created before this instant (minus the overlap) were all seen.
        sa.Column("checkpoint", TS, nullable=True),
        # A replica holds the number until then; a crashed one's hold simply runs out.
        sa.Column("lease_until", TS, nullable=True),
        sa.Column("next_run_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_run_at", TS, nullable=True),
        sa.Column("last_success_at", TS, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("last_error_at", TS, nullable=True),
        sa.Column("created_at", TS, server_default=sa.func.now()),
        schema=SCHEMA,
    )
    op.create_index("catch_up_numbers_due", "catch_up_numbers", ["next_run_at"], schema=SCHEMA)
    # Numbers ingest already knew (Telnyx); Twilio ones arrive with routing's events.
    op.execute(
        f"INSERT INTO {SCHEMA}.catch_up_numbers (e164, carrier, account_id)"
        f" SELECT e164, 'telnyx', account_id FROM {SCHEMA}.telnyx_numbers ON CONFLICT DO NOTHING"
    )
    op.add_column("telnyx_accounts", sa.Column("api_key", sa.Text, nullable=True), schema=SCHEMA)
    op.create_table(
        "outbound_pending",
        sa.Column("carrier", sa.Text, primary_key=True),
        sa.Column("carrier_message_id", sa.Text, primary_key=True),
        sa.Column("account_id", sa.Uuid, nullable=False),
        sa.Column("sent_at", TS, nullable=False),
        sa.Column("next_check_at", TS, nullable=False),
        sa.Column("checks", sa.Integer, nullable=False, server_default="0"),
        sa.Column("lease_until", TS, nullable=True),
        schema=SCHEMA,
    )
    op.create_index("outbound_pending_due", "outbound_pending", ["next_check_at"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_table("outbound_pending", schema=SCHEMA)
    op.drop_column("telnyx_accounts", "api_key", schema=SCHEMA)
    op.drop_table("catch_up_numbers", schema=SCHEMA)
