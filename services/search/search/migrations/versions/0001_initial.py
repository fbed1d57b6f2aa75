"""Message projection.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

from shared.db.idempotency import create_processed_events_table

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

S = "search"


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("message_id", sa.Uuid, primary_key=True),
        sa.Column("account_id", sa.Uuid, nullable=False),
        sa.Column("conversation_id", sa.Uuid, nullable=False),
        sa.Column("customer_id", sa.Uuid, nullable=False),
        sa.Column("customer_name", sa.Text, nullable=True),
        sa.Column("customer_phone", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        schema=S,
    )
    op.execute(
        "ALTER TABLE search.messages ADD COLUMN body_tsv tsvector GENERATED ALWAYS AS"
        " (to_tsvector('simple', coalesce(body, ''))) STORED"
    )
    op.create_index("messages_account_tsv", "messages", ["body_tsv"], schema=S, postgresql_using="gin")
    op.create_index("messages_account", "messages", ["account_id", "sent_at"], schema=S)
    create_processed_events_table(S)
