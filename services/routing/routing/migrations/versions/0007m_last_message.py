"""The inbox row's preview: the conversation's latest message (its time and id, the start of its
body and its direction) kept on the conversation where messages are stored, so the list reads a
column instead of looking up each row's latest message. Backfilled from the messages.

Revision ID: 0007m
"""

import sqlalchemy as sa
from alembic import op

revision = "0007m"
down_revision = "0006p"
branch_labels = None
depends_on = None

S = "routing"
# routing/domain/inbox.py PREVIEW_LENGTH
PREVIEW_LENGTH = 120


def upgrade() -> None:
    op.add_column(
        "conversations", sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=True), schema=S
    )
    op.add_column("conversations", sa.Column("last_message_id", sa.Uuid, nullable=True), schema=S)
    op.add_column("conversations", sa.Column("last_message_preview", sa.Text, nullable=True), schema=S)
    op.add_column("conversations", sa.Column("last_message_direction", sa.Text, nullable=True), schema=S)
    # The latest message of each conversation in the timeline's order (created_at, id), found
    # through messages_timeline (conversation_id, created_at, id).
    op.execute(
        f"""
        UPDATE {S}.conversations c
        SET last_message_at = m.created_at,
            last_message_id = m.id,
            last_message_preview = left(coalesce(m.body, ''), {PREVIEW_LENGTH}),
            last_message_direction = m.direction
        FROM (
            SELECT DISTINCT ON (conversation_id) conversation_id, id, created_at, body, direction
            FROM {S}.messages
            ORDER BY conversation_id, created_at DESC, id DESC
        ) m
        WHERE m.conversation_id = c.id
        """
    )


def downgrade() -> None:
    for column in ("last_message_direction", "last_message_preview", "last_message_id", "last_message_at"):
        op.drop_column("conversations", column, schema=S)
