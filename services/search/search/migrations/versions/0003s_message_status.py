"""Each message carries its conversation's status, indexed together with its words.

Searching words in open (or closed) conversations only used to read every matching message and
then look its conversation up; with the status in the same GIN index (btree_gin), the index
returns only the messages of conversations with that status. The projection keeps the copy in
step whenever a conversation's status changes (search/projection.py).

Revision ID: 0003s
Revises: 0002s
"""

from alembic import op

revision = "0003s"
down_revision = "0002s"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A trusted extension (like pg_trgm and unaccent): the database owner may create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    op.execute("ALTER TABLE search.messages ADD COLUMN conversation_status text NOT NULL DEFAULT 'open'")
    op.execute(
        "UPDATE search.messages m SET conversation_status = v.status FROM search.conversations v"
        " WHERE v.conversation_id = m.conversation_id AND v.status <> 'open'"
    )
    # For keeping the copy in step: all messages of one conversation.
    op.execute("CREATE INDEX messages_conversation ON search.messages (conversation_id)")
    op.execute(
        "CREATE INDEX messages_status_tsv ON search.messages USING gin (conversation_status, body_tsv)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX search.messages_status_tsv")
    op.execute("DROP INDEX search.messages_conversation")
    op.execute("ALTER TABLE search.messages DROP COLUMN conversation_status")
