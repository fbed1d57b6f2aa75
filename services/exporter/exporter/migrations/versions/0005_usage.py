"""Usage: an operator counts a dealership's finished exports per month straight from its jobs
(one job per export request, whatever Kafka redelivers), through this index.

Revision ID: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

S = "exporter"


def upgrade() -> None:
    op.create_index(
        "export_jobs_finished_by_account",
        "export_jobs",
        ["account_id", "finished_at"],
        schema=S,
        postgresql_where=sa.text("status IN ('done', 'expired')"),
    )


def downgrade() -> None:
    op.drop_index("export_jobs_finished_by_account", table_name="export_jobs", schema=S)
