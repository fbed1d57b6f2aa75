"""DMS integrations (one account each, authenticated by a secret of which only a hash is kept)
and the DMS events ingest refused, kept for the integrator to read back.

Revision ID: 0003d
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003d"
down_revision = "0002"
branch_labels = None
depends_on = None

SCHEMA = "ingest"


def upgrade() -> None:
    op.create_table(
        "dms_integrations",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("account_id", sa.Uuid, nullable=False, index=True),
        sa.Column("name", sa.Text, nullable=False),
        # SHA-256 of the secret: secrets are long and random, so a fast hash is enough and a
        # stolen table holds nothing an attacker could send.
        sa.Column("secret_sha256", sa.Text, nullable=False, unique=True),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        schema=SCHEMA,
    )
    op.create_table(
        "dms_rejections",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column(
            "integration_id",
            sa.Uuid,
            sa.ForeignKey(f"{SCHEMA}.dms_integrations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("account_id", sa.Uuid, nullable=False),
        sa.Column("event_id", sa.Text, nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("errors", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=SCHEMA,
    )
    op.create_index(
        "dms_rejections_by_integration",
        "dms_rejections",
        ["integration_id", sa.text("received_at DESC"), sa.text("id DESC")],
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("dms_rejections", schema=SCHEMA)
    op.drop_table("dms_integrations", schema=SCHEMA)
