"""Failed sign-ins counted per e-mail and address, per e-mail and per address (routing/auth/
throttle.py). UNLOGGED: a crash forgets the counts, which only lets a few more tries through.

Revision ID: 0012t
"""

import sqlalchemy as sa
from alembic import op

revision = "0012t"
down_revision = "0011o"
branch_labels = None
depends_on = None

S = "routing"


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("window_started", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_failure", sa.DateTime(timezone=True), nullable=False),
        schema=S,
        prefixes=["UNLOGGED"],
    )
    op.create_index("login_failures_last_failure", "login_failures", ["last_failure"], schema=S)


def downgrade() -> None:
    op.drop_table("login_failures", schema=S)
