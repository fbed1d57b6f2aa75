"""A running job belongs to one runner at a time: `run_token` names the run that holds it and
`running_until` is the end of its lease (renewed while it renders). Another runner takes a
running job only once the lease has ended, and a run whose token is no longer the job's cannot
finish it.

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

S = "exporter"
T = "export_jobs"


def upgrade() -> None:
    op.add_column(T, sa.Column("run_token", sa.Uuid, nullable=True), schema=S)
    op.add_column(T, sa.Column("running_until", sa.DateTime(timezone=True), nullable=True), schema=S)
    # Jobs left running (their runner is gone), so the relay can ask for them again.
    op.create_index(
        "export_jobs_running_until",
        T,
        ["running_until"],
        schema=S,
        postgresql_where=sa.text("status = 'running'"),
    )


def downgrade() -> None:
    raise NotImplementedError("exports only move forward")
