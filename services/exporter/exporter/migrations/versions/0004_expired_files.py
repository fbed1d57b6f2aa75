"""Finished PDFs are deleted some time after their link expired; the job stays, `expired`, so the
requester learns why the link is dead. The partial index is what the cleanup sweep walks.

Revision ID: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

S = "exporter"
T = "export_jobs"


def upgrade() -> None:
    op.drop_constraint("export_jobs_status", T, schema=S, type_="check")
    op.create_check_constraint(
        "export_jobs_status", T, "status IN ('queued', 'running', 'done', 'failed', 'expired')", schema=S
    )
    op.create_index(
        "export_jobs_done_expiry",
        T,
        ["expires_at"],
        schema=S,
        postgresql_where=sa.text("status = 'done'"),
    )


def downgrade() -> None:
    raise NotImplementedError("exports only move forward")
