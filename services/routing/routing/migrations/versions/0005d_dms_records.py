"""DMS records (appointments, repair orders, payments) kept by routing, the DMS version of each
customer profile, and what profile merges leave behind (nothing is deleted: a merged-away
profile points at the one that survived, an archived conversation remembers whose it was).

Revision ID: 0005d
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005d"
down_revision = "0004i"
branch_labels = None
depends_on = None

S = "routing"


def _record_table(name: str, dms_id: str, *columns: sa.Column) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("account_id", sa.Uuid, sa.ForeignKey(f"{S}.accounts.id"), nullable=False),
        sa.Column(dms_id, sa.Text, nullable=False),
        sa.Column("dms_customer_id", sa.Text, nullable=False),
        *columns,
        # The DMS's version of the record: an older one never overwrites a newer one.
        sa.Column("record_version", sa.BigInteger, nullable=False),
        sa.Column("last_event_type", sa.Text, nullable=False),
        # The whole payload as last applied, for fields this table does not model.
        sa.Column("data", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("account_id", dms_id, name=f"{name}_dms_id"),
        schema=S,
    )
    op.create_index(f"{name}_customer", name, ["account_id", "dms_customer_id"], schema=S)


def upgrade() -> None:
    op.add_column("customers", sa.Column("dms_record_version", sa.BigInteger, nullable=True), schema=S)
    op.add_column(
        "customers",
        sa.Column("merged_into_customer_id", sa.Uuid, sa.ForeignKey(f"{S}.customers.id"), nullable=True),
        schema=S,
    )
    op.create_index(
        "customers_dms_id",
        "customers",
        ["account_id", "dms_customer_id"],
        unique=True,
        schema=S,
        postgresql_where=sa.text("dms_customer_id IS NOT NULL"),
    )
    op.add_column(
        "conversations",
        sa.Column("merged_from_customer_id", sa.Uuid, sa.ForeignKey(f"{S}.customers.id"), nullable=True),
        schema=S,
    )
    _record_table(
        "appointments",
        "dms_appointment_id",
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("appointment_type", sa.Text, nullable=True),
        sa.Column("advisor", sa.Text, nullable=True),
        sa.Column("vehicle", JSONB, nullable=True),
        sa.CheckConstraint("status IN ('booked', 'cancelled')", name="appointments_status"),
    )
    op.create_index("appointments_by_time", "appointments", ["account_id", "starts_at"], schema=S)
    _record_table(
        "repair_orders",
        "ro_number",
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("vin", sa.Text, nullable=True),
        sa.Column("vehicle", JSONB, nullable=True),
        sa.Column("totals", JSONB, nullable=True),
        sa.CheckConstraint("status IN ('open', 'closed')", name="repair_orders_status"),
    )
    _record_table(
        "payments",
        "dms_payment_id",
        sa.Column("ro_number", sa.Text, nullable=True),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("payments", schema=S)
    op.drop_table("repair_orders", schema=S)
    op.drop_table("appointments", schema=S)
    op.drop_column("conversations", "merged_from_customer_id", schema=S)
    op.drop_index("customers_dms_id", "customers", schema=S)
    op.drop_column("customers", "merged_into_customer_id", schema=S)
    op.drop_column("customers", "dms_record_version", schema=S)
