"""The operator API (issue 20): a dealership's status (active or suspended, nothing deleted) and
default language; the audit line of every operator call; the answers kept for `Idempotency-Key`
retries of a create (the first admin's invitation link in them is sealed, never in clear).

Revision ID: 0011o
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0011o"
down_revision = "0010g"
branch_labels = None
depends_on = None

S = "routing"


def upgrade() -> None:
    op.add_column("accounts", sa.Column("status", sa.Text, nullable=False, server_default="active"), schema=S)
    op.create_check_constraint("accounts_status", "accounts", "status IN ('active', 'suspended')", schema=S)
    op.add_column("accounts", sa.Column("status_changed_at", sa.DateTime(timezone=True)), schema=S)
    op.add_column("accounts", sa.Column("language", sa.Text, nullable=False, server_default="en"), schema=S)
    op.create_table(
        "platform_audit",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("operator_name", sa.Text, nullable=False),
        sa.Column("operator_fingerprint", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("account_id", sa.Uuid, nullable=True),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("details", JSONB, nullable=False, server_default="{}"),
        schema=S,
    )
    op.create_index("platform_audit_account", "platform_audit", ["account_id", "id"], schema=S)
    op.create_table(
        "platform_idempotency",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("request_digest", sa.Text, nullable=False),
        sa.Column("account_id", sa.Uuid, sa.ForeignKey(f"{S}.accounts.id"), nullable=False),
        sa.Column("response", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=S,
    )


def downgrade() -> None:
    op.drop_table("platform_idempotency", schema=S)
    op.drop_table("platform_audit", schema=S)
    op.drop_column("accounts", "language", schema=S)
    op.drop_column("accounts", "status_changed_at", schema=S)
    op.drop_constraint("accounts_status", "accounts", schema=S)
    op.drop_column("accounts", "status", schema=S)
