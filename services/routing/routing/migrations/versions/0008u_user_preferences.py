"""Each staff member's own language and time zone: null means the dealership's (its time zone,
and the language the browser asks for).

Revision ID: 0008u
"""

import sqlalchemy as sa
from alembic import op

revision = "0008u"
down_revision = "0007m"
branch_labels = None
depends_on = None

S = "routing"


def upgrade() -> None:
    op.add_column("users", sa.Column("language", sa.Text, nullable=True), schema=S)
    op.add_column("users", sa.Column("time_zone", sa.Text, nullable=True), schema=S)


def downgrade() -> None:
    op.drop_column("users", "time_zone", schema=S)
    op.drop_column("users", "language", schema=S)
