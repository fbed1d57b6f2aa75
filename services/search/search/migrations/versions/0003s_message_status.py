"""Each message carries its conversation's status, indexed together with its words; larger
statistics samples for the substring-matched columns.

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
    # The query picks its plan from the planner's estimate of how many rows a substring matches
    # (search/queries.py). With the default sample, a part of a name shared by 4 % of customers
    # ("lavoi") was estimated at 10 rows, and its 4,000 matches were collected and sorted instead
    # of walked (~20 ms instead of ~8). A larger sample gives the substring estimates enough
    # distinct values to be right.
    for table, column in (
        ("customers", "name_folded"),
        ("customer_phones", "digits"),
        ("appointments", "type_folded"),
    ):
        op.execute(f"ALTER TABLE search.{table} ALTER COLUMN {column} SET STATISTICS 1000")


def downgrade() -> None:
    for table, column in (
        ("customers", "name_folded"),
        ("customer_phones", "digits"),
        ("appointments", "type_folded"),
    ):
        op.execute(f"ALTER TABLE search.{table} ALTER COLUMN {column} SET STATISTICS -1")
    op.execute("DROP INDEX search.messages_status_tsv")
    op.execute("DROP INDEX search.messages_conversation")
    op.execute("ALTER TABLE search.messages DROP COLUMN conversation_status")
