"""Joins the notifications (0002n) and outbound sending (0002s) histories, written side by side,
into one line again.

Revision ID: 0003
"""

revision = "0003"
down_revision = ("0002n", "0002s")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
