"""The inbox list at scale: the owners' read position stored on the conversation, and indexes
that serve each view in last-activity order.

Revision ID: 0004i
"""

import sqlalchemy as sa
from alembic import op

revision = "0004i"
down_revision = "0003"
branch_labels = None
depends_on = None

S = "routing"


def upgrade() -> None:
    op.add_column(
        "conversations", sa.Column("owner_read_at", sa.DateTime(timezone=True), nullable=True), schema=S
    )
    op.execute(
        f"""
        UPDATE {S}.conversations c SET owner_read_at = (
            SELECT max(r.last_read_at) FROM {S}.read_marks r
            WHERE r.conversation_id = c.id AND (
                (c.assignee_user_id IS NOT NULL AND r.user_id = c.assignee_user_id)
                OR (c.assignee_team_id IS NOT NULL AND r.user_id IN (
                    SELECT m.user_id FROM {S}.team_members m WHERE m.team_id = c.assignee_team_id))
                OR (c.assignee_user_id IS NULL AND c.assignee_team_id IS NULL)))
        """
    )
    op.drop_index("conversations_assignee_user", "conversations", schema=S)
    op.drop_index("conversations_assignee_team", "conversations", schema=S)
    for name, column in (("user", "assignee_user_id"), ("team", "assignee_team_id")):
        op.create_index(
            f"conversations_inbox_{name}",
            "conversations",
            ["account_id", column, sa.text("last_activity_at DESC"), sa.text("id DESC")],
            schema=S,
            postgresql_where=sa.text(f"{column} IS NOT NULL"),
        )
    op.create_index(
        "conversations_inbox_status",
        "conversations",
        ["account_id", "status", sa.text("last_activity_at DESC"), sa.text("id DESC")],
        schema=S,
    )


def downgrade() -> None:
    op.drop_index("conversations_inbox_status", "conversations", schema=S)
    op.drop_index("conversations_inbox_team", "conversations", schema=S)
    op.drop_index("conversations_inbox_user", "conversations", schema=S)
    op.create_index(
        "conversations_assignee_team", "conversations", ["account_id", "assignee_team_id"], schema=S
    )
    op.create_index(
        "conversations_assignee_user", "conversations", ["account_id", "assignee_user_id"], schema=S
    )
    op.drop_column("conversations", "owner_read_at", schema=S)
