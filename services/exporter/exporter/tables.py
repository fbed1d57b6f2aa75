"""exporter's tables as SQLAlchemy Core, for queries. The migrations are the source of truth."""

import sqlalchemy as sa

metadata = sa.MetaData(schema="exporter")

export_jobs = sa.Table(
    "export_jobs",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("account_id", sa.Uuid),
    sa.Column("requested_by", sa.Uuid),
    sa.Column("conversation_id", sa.Uuid),
    sa.Column("since", sa.DateTime(timezone=True)),
    sa.Column("until", sa.DateTime(timezone=True)),
    sa.Column("time_zone", sa.Text),
    sa.Column("request_key", sa.Text),
    sa.Column("status", sa.Text),
    sa.Column("attempts", sa.Integer),
    sa.Column("file_key", sa.Text),
    sa.Column("pages", sa.Integer),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
    sa.Column("failed_reason", sa.Text),
    sa.Column("requested_published_at", sa.DateTime(timezone=True)),
    sa.Column("completed_published_at", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("run_token", sa.Uuid),
    sa.Column("running_until", sa.DateTime(timezone=True)),
)
