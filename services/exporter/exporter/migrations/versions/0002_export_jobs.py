"""Export jobs as the exporter runs them: the range as instants, attempts, the stored file and
its link expiry, duplicate detection, and the job row as the outbox of its two events.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

S = "exporter"
T = "export_jobs"


def upgrade() -> None:
    op.drop_column(T, "date_from", schema=S)
    op.drop_column(T, "date_to", schema=S)
    op.alter_column(T, "file_path", new_column_name="file_key", schema=S)
    op.alter_column(T, "error", new_column_name="failed_reason", schema=S)
    for column in (
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        # The requester's zone, used when routing cannot tell the account's.
        sa.Column("time_zone", sa.Text, nullable=True),
        # Same requester, conversation and range: while one is pending it is the same job.
        sa.Column("request_key", sa.Text, nullable=False, server_default=""),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("pages", sa.Integer, nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        # The job row is the outbox of its events: null = Kafka has not acknowledged it yet.
        sa.Column("requested_published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    ):
        op.add_column(T, column, schema=S)
    op.create_check_constraint(
        "export_jobs_status", T, "status IN ('queued', 'running', 'done', 'failed')", schema=S
    )
    op.create_index(
        "export_jobs_one_pending",
        T,
        ["account_id", "requested_by", "request_key"],
        unique=True,
        schema=S,
        postgresql_where=sa.text("status IN ('queued', 'running')"),
    )
    op.create_index(
        "export_jobs_unpublished",
        T,
        ["created_at"],
        schema=S,
        postgresql_where=sa.text(
            "(requested_published_at IS NULL AND status = 'queued') OR "
            "(status IN ('done', 'failed') AND completed_published_at IS NULL)"
        ),
    )


def downgrade() -> None:
    raise NotImplementedError("exports only move forward")
