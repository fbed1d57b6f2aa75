"""A customer is found by e-mail address and by VIN (whole, or its last characters as staff read
them off a windshield).

Both are ranges on "C"-collated generated columns, like the RO number: a prefix of the address,
and a prefix of the reversed VIN (its tail). Ranges, not LIKE, so a prepared statement's generic
plan still uses the index.

Revision ID: 0004s
Revises: 0003s
"""

from alembic import op

revision = "0004s"
down_revision = "0003s"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        'ALTER TABLE search.customers ADD COLUMN email_folded text COLLATE "C"'
        " GENERATED ALWAYS AS (lower(btrim(email))) STORED"
    )
    op.execute("CREATE INDEX customers_email ON search.customers (account_id, email_folded)")
    op.execute(
        'ALTER TABLE search.repair_orders ADD COLUMN vin_reversed text COLLATE "C"'
        " GENERATED ALWAYS AS (reverse(upper(regexp_replace(vin, '[^0-9A-Za-z]', '', 'g')))) STORED"
    )
    op.execute("CREATE INDEX repair_orders_vin ON search.repair_orders (account_id, vin_reversed)")


def downgrade() -> None:
    op.execute("ALTER TABLE search.repair_orders DROP COLUMN vin_reversed")
    op.execute("ALTER TABLE search.customers DROP COLUMN email_folded")
