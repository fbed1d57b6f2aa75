"""Carrier credentials, received webhook ids, rejected inputs.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

from shared.db.idempotency import create_processed_events_table

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = "ingest"


def upgrade() -> None:
    op.create_table(
        "twilio_accounts",
        sa.Column("account_sid", sa.Text, primary_key=True),
        sa.Column("auth_token", sa.Text, nullable=False),
        sa.Column("account_id", sa.Uuid, nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        schema=SCHEMA,
    )
    op.create_table(
        "received_webhooks",
        sa.Column("carrier", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, primary_key=True),
        sa.Column("dedupe_key", sa.Text, primary_key=True),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        schema=SCHEMA,
    )
    op.create_table(
        "rejected_inputs",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("account_id", sa.Uuid, nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        schema=SCHEMA,
    )
    create_processed_events_table(SCHEMA)
