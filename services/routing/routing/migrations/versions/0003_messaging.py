"""Sending: outbound message state, consent, saved replies, customer profile notes, and what
the admin screens and the auto-close sweeper need.

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

S = "routing"

TIMELINE_KINDS = (
    "assigned",
    "note",
    "closed",
    "reopened",
    "archived",
    "merged",
    "opted_out",
    "opted_in",
)


def _created() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def _account() -> sa.Column:
    return sa.Column("account_id", sa.Uuid, sa.ForeignKey(f"{S}.accounts.id"), nullable=False)


def upgrade() -> None:
    # The dealership number a conversation talks through: replies leave from the number the
    # customer wrote to.
    op.add_column("conversations", sa.Column("dealership_e164", sa.Text, nullable=True), schema=S)
    op.create_index(
        "conversations_auto_close",
        "conversations",
        ["account_id", "last_activity_at"],
        schema=S,
        postgresql_where=sa.text("status = 'open'"),
    )

    op.add_column("messages", sa.Column("from_e164", sa.Text, nullable=True), schema=S)
    op.add_column("messages", sa.Column("to_e164", sa.Text, nullable=True), schema=S)
    op.add_column("messages", sa.Column("error_message", sa.Text, nullable=True), schema=S)
    # A caller's idempotency key (API `Idempotency-Key`, or a send request's id): the same
    # request twice stores one message and texts the customer once.
    op.add_column("messages", sa.Column("client_reference", sa.Text, nullable=True), schema=S)
    op.add_column(
        "messages",
        sa.Column("status_updated_at", sa.DateTime(timezone=True), nullable=True),
        schema=S,
    )
    op.create_unique_constraint(
        "messages_client_reference", "messages", ["account_id", "client_reference"], schema=S
    )
    # "Which customers did this automation / campaign reach".
    op.create_index(
        "messages_source",
        "messages",
        ["account_id", "source_kind", "source_id"],
        schema=S,
        postgresql_where=sa.text("source_id IS NOT NULL"),
    )

    op.add_column("users", sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True), schema=S)

    # Consent is per customer number and dealership number, as carriers enforce it.
    op.create_table(
        "opt_outs",
        _account(),
        sa.Column("customer_e164", sa.Text, primary_key=True),
        sa.Column("dealership_e164", sa.Text, primary_key=True),
        sa.Column("keyword", sa.Text, nullable=False),
        sa.Column("opted_out_at", sa.DateTime(timezone=True), nullable=False),
        schema=S,
    )
    op.create_index("opt_outs_account", "opt_outs", ["account_id", "customer_e164"], schema=S)

    op.create_table(
        "saved_replies",
        sa.Column("id", sa.Uuid, primary_key=True),
        _account(),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_by_user_id", sa.Uuid, sa.ForeignKey(f"{S}.users.id"), nullable=True),
        _created(),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("account_id", "name", name="saved_replies_name"),
        schema=S,
    )

    op.create_table(
        "customer_notes",
        sa.Column("id", sa.Uuid, primary_key=True),
        _account(),
        sa.Column("customer_id", sa.Uuid, sa.ForeignKey(f"{S}.customers.id"), nullable=False),
        sa.Column("author_user_id", sa.Uuid, sa.ForeignKey(f"{S}.users.id"), nullable=True),
        sa.Column("body", sa.Text, nullable=False),
        _created(),
        schema=S,
    )
    op.create_index("customer_notes_customer", "customer_notes", ["customer_id", "created_at"], schema=S)
    op.create_index("customers_account", "customers", ["account_id", "last_name", "first_name"], schema=S)

    op.drop_constraint("timeline_events_kind", "timeline_events", schema=S)
    op.create_check_constraint(
        "timeline_events_kind",
        "timeline_events",
        "kind IN (" + ", ".join(f"'{kind}'" for kind in TIMELINE_KINDS) + ")",
        schema=S,
    )


def downgrade() -> None:
    op.drop_constraint("timeline_events_kind", "timeline_events", schema=S)
    op.create_check_constraint(
        "timeline_events_kind",
        "timeline_events",
        "kind IN ('assigned', 'note', 'closed', 'reopened', 'archived', 'merged')",
        schema=S,
    )
    op.drop_index("customers_account", "customers", schema=S)
    op.drop_table("customer_notes", schema=S)
    op.drop_table("saved_replies", schema=S)
    op.drop_table("opt_outs", schema=S)
    op.drop_column("users", "deactivated_at", schema=S)
    op.drop_index("messages_source", "messages", schema=S)
    op.drop_constraint("messages_client_reference", "messages", schema=S)
    for column in ("status_updated_at", "client_reference", "error_message", "to_e164", "from_e164"):
        op.drop_column("messages", column, schema=S)
    op.drop_index("conversations_auto_close", "conversations", schema=S)
    op.drop_column("conversations", "dealership_e164", schema=S)
