"""Usage, what an operator bills a dealership on: one row per text notifier handed to a carrier
(with its segments, read from the text as sent) and one per text routing reports undelivered,
each keyed by the message id, so a status reported twice or a replayed event counts once.

Revision ID: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

S = "notifier"
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "usage_texts_out",
        sa.Column("message_id", sa.Uuid, primary_key=True),
        sa.Column("account_id", sa.Uuid, nullable=False),
        sa.Column("sent_at", TS, nullable=False),
        sa.Column("segments", sa.Integer, nullable=False),
        sa.Column("encoding", sa.Text, nullable=False),
        sa.Column("with_media", sa.Boolean, nullable=False, server_default=sa.false()),
        schema=S,
    )
    op.create_index("usage_texts_out_by_account", "usage_texts_out", ["account_id", "sent_at"], schema=S)
    op.create_table(
        "usage_undelivered",
        sa.Column("message_id", sa.Uuid, primary_key=True),
        sa.Column("account_id", sa.Uuid, nullable=False),
        sa.Column("failed_at", TS, nullable=False),
        sa.Column("error_category", sa.Text, nullable=True),
        schema=S,
    )
    op.create_index(
        "usage_undelivered_by_account", "usage_undelivered", ["account_id", "failed_at"], schema=S
    )


def downgrade() -> None:
    op.drop_table("usage_undelivered", schema=S)
    op.drop_table("usage_texts_out", schema=S)
