"""Read marks per user and conversation; timeline events (assignments, notes, close/reopen).

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

S = "routing"


def upgrade() -> None:
    # How far one user has read one conversation: up to (and including) an inbound message.
    op.create_table(
        "read_marks",
        sa.Column("user_id", sa.Uuid, sa.ForeignKey(f"{S}.users.id"), primary_key=True),
        sa.Column("conversation_id", sa.Uuid, sa.ForeignKey(f"{S}.conversations.id"), primary_key=True),
        sa.Column("last_read_message_id", sa.Uuid, sa.ForeignKey(f"{S}.messages.id"), nullable=True),
        # The time of the latest inbound message read (not the wall clock of the click), so
        # "read" is simply `last_read_at >= conversations.last_inbound_at`.
        sa.Column("last_read_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=S,
    )
    op.create_index("read_marks_conversation", "read_marks", ["conversation_id", "last_read_at"], schema=S)
    op.create_index("team_members_user", "team_members", ["user_id"], schema=S)
    op.create_table(
        "timeline_events",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("account_id", sa.Uuid, sa.ForeignKey(f"{S}.accounts.id"), nullable=False),
        sa.Column("conversation_id", sa.Uuid, sa.ForeignKey(f"{S}.conversations.id"), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("actor_user_id", sa.Uuid, sa.ForeignKey(f"{S}.users.id"), nullable=True),
        sa.Column("data", JSONB, nullable=False, server_default="{}"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint(
            "kind IN ('assigned', 'note', 'closed', 'reopened', 'archived', 'merged')",
            name="timeline_events_kind",
        ),
        schema=S,
    )
    op.create_index(
        "timeline_events_timeline", "timeline_events", ["conversation_id", "created_at", "id"], schema=S
    )
    op.create_index(
        "conversations_assignee_user", "conversations", ["account_id", "assignee_user_id"], schema=S
    )
    op.create_index(
        "conversations_assignee_team", "conversations", ["account_id", "assignee_team_id"], schema=S
    )


def downgrade() -> None:
    op.drop_index("conversations_assignee_team", "conversations", schema=S)
    op.drop_index("conversations_assignee_user", "conversations", schema=S)
    op.drop_table("timeline_events", schema=S)
    op.drop_index("team_members_user", "team_members", schema=S)
    op.drop_table("read_marks", schema=S)
