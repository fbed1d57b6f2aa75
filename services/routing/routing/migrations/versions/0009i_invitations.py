"""Invitations and password resets: a signed, single-use, expiring link each, stored as a digest
only; `users.sessions_valid_after` ends every session (token) issued before it, set when a
password is set or reset.

Revision ID: 0009i
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0009i"
down_revision = "0008u"
branch_labels = None
depends_on = None

S = "routing"


def upgrade() -> None:
    op.add_column(
        "users", sa.Column("sessions_valid_after", sa.DateTime(timezone=True), nullable=True), schema=S
    )
    op.create_table(
        "invitations",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("account_id", sa.Uuid, sa.ForeignKey(f"{S}.accounts.id"), nullable=False),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("team_ids", ARRAY(sa.Uuid), nullable=False, server_default="{}"),
        sa.Column("language", sa.Text, nullable=True),
        sa.Column("token_digest", sa.Text, nullable=False),
        sa.Column("invited_by_user_id", sa.Uuid, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("user_id", sa.Uuid, nullable=True),
        sa.CheckConstraint("role IN ('admin', 'agent')", name="invitations_role"),
        schema=S,
    )
    # One open invitation per e-mail and dealership (an expired one is closed when re-inviting).
    op.create_index(
        "invitations_one_open",
        "invitations",
        ["account_id", sa.text("lower(email)")],
        unique=True,
        schema=S,
        postgresql_where=sa.text("accepted_at IS NULL AND revoked_at IS NULL"),
    )
    op.create_table(
        "password_resets",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("user_id", sa.Uuid, sa.ForeignKey(f"{S}.users.id"), nullable=False),
        sa.Column("token_digest", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        schema=S,
    )
    op.create_index("password_resets_by_user", "password_resets", ["user_id", "created_at"], schema=S)


def downgrade() -> None:
    op.drop_table("password_resets", schema=S)
    op.drop_table("invitations", schema=S)
    op.drop_column("users", "sessions_valid_after", schema=S)
