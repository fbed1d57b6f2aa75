"""DMS integrations managed by the dealership's admin: each integration may hold several secrets
at once (the current one, and the ones a rotation is retiring, each with the time it stops
working), is revoked rather than deleted, and remembers when it was last used. One active
integration per name and account ("one per integrator").

Revision ID: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SCHEMA = "ingest"
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("dms_integrations", sa.Column("revoked_at", TS, nullable=True), schema=SCHEMA)
    op.add_column("dms_integrations", sa.Column("last_used_at", TS, nullable=True), schema=SCHEMA)
    op.execute(f"UPDATE {SCHEMA}.dms_integrations SET revoked_at = now() WHERE NOT active")
    op.create_table(
        "dms_integration_secrets",
        # SHA-256 of the secret, as before: secrets are long and random, a fast hash is enough.
        sa.Column("secret_sha256", sa.Text, primary_key=True),
        sa.Column(
            "integration_id",
            sa.Uuid,
            sa.ForeignKey(f"{SCHEMA}.dms_integrations.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        # The secret's first characters (its fixed prefix and a few random ones), so an admin can
        # tell which secret an integrator holds without it being shown again.
        sa.Column("hint", sa.Text, nullable=True),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        # NULL: the current secret. Set by a rotation: refused from then on.
        sa.Column("valid_until", TS, nullable=True),
        sa.Column("last_used_at", TS, nullable=True),
        schema=SCHEMA,
    )
    op.execute(
        f"INSERT INTO {SCHEMA}.dms_integration_secrets (secret_sha256, integration_id, created_at)"
        f" SELECT secret_sha256, id, coalesce(created_at, now()) FROM {SCHEMA}.dms_integrations"
    )
    op.drop_column("dms_integrations", "secret_sha256", schema=SCHEMA)
    op.drop_column("dms_integrations", "active", schema=SCHEMA)
    op.create_index(
        "dms_integrations_active_name",
        "dms_integrations",
        ["account_id", sa.text("lower(name)")],
        unique=True,
        schema=SCHEMA,
        postgresql_where=sa.text("revoked_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("dms_integrations_active_name", table_name="dms_integrations", schema=SCHEMA)
    op.add_column(
        "dms_integrations",
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        schema=SCHEMA,
    )
    op.add_column("dms_integrations", sa.Column("secret_sha256", sa.Text, nullable=True), schema=SCHEMA)
    op.execute(
        f"UPDATE {SCHEMA}.dms_integrations i SET active = i.revoked_at IS NULL, secret_sha256 ="
        f" (SELECT s.secret_sha256 FROM {SCHEMA}.dms_integration_secrets s WHERE s.integration_id = i.id"
        " ORDER BY s.valid_until IS NULL DESC, s.created_at DESC LIMIT 1)"
    )
    op.drop_table("dms_integration_secrets", schema=SCHEMA)
    op.drop_column("dms_integrations", "last_used_at", schema=SCHEMA)
    op.drop_column("dms_integrations", "revoked_at", schema=SCHEMA)
    op.create_unique_constraint(
        "dms_integrations_secret_sha256_key", "dms_integrations", ["secret_sha256"], schema=SCHEMA
    )
