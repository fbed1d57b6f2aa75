"""The account-wide live feed: conversation changes kept for a day so a reconnecting page
resumes from its Last-Event-ID; per account, the newest id pruned (an older Last-Event-ID gets a
resync); and the throttle of "is typing" signals, shared by every replica.

Revision ID: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004l"
branch_labels = None
depends_on = None

S = "notifier"


def upgrade() -> None:
    op.create_table(
        "live_events",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("account_id", sa.Uuid, nullable=False),
        sa.Column("source_event_id", sa.Uuid, nullable=False),
        sa.Column("conversation_id", sa.Uuid, nullable=False),
        sa.Column("data", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        # A redelivered event stores nothing again (one row per conversation it touches).
        sa.UniqueConstraint("source_event_id", "conversation_id", name="live_events_once"),
        schema=S,
    )
    op.create_index("live_events_account", "live_events", ["account_id", "id"], schema=S)
    op.create_index("live_events_age", "live_events", ["created_at"], schema=S)
    # Per account: a quiet account's stream resumes without a resync after its rows are gone.
    op.create_table(
        "live_pruned",
        sa.Column("account_id", sa.Uuid, primary_key=True),
        sa.Column("through_id", sa.BigInteger, nullable=False),
        schema=S,
    )
    # Unlogged: a throttle lost in a crash only lets one extra signal through.
    op.execute(
        f"CREATE UNLOGGED TABLE {S}.typing_throttle ("
        " user_id uuid NOT NULL, conversation_id uuid NOT NULL,"
        " sent_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (user_id, conversation_id))"
    )


def downgrade() -> None:
    op.drop_table("typing_throttle", schema=S)
    op.drop_table("live_pruned", schema=S)
    op.drop_table("live_events", schema=S)
