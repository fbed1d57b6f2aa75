"""Export jobs.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

from shared.db.idempotency import create_processed_events_table

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

S = "exporter"


def upgrade() -> None:
    op.create_table(
        "export_jobs",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("account_id", sa.Uuid, nullable=False),
        sa.Column("requested_by", sa.Uuid, nullable=False),
        sa.Column("conversation_id", sa.Uuid, nullable=False),
        sa.Column("date_from", sa.Date, nullable=True),
        sa.Column("date_to", sa.Date, nullable=True),
        sa.Column("status", sa.Text, nullable=False, server_default="queued"),
        sa.Column("file_path", sa.Text, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        schema=S,
    )
    create_processed_events_table(S)
