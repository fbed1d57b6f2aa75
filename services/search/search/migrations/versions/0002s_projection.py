"""The whole projection: customers and their phones, conversations, message text in English and
French, appointments, repair orders and payments.

Revision ID: 0002s
Revises: 0001
"""

from alembic import op

revision = "0002s"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Both ship with postgresql-contrib and are "trusted": a database owner may create them.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    # unaccent() is only STABLE (its dictionary could change), so it cannot feed an index or a
    # generated column; this wrapper names the dictionary explicitly and is declared IMMUTABLE.
    # The extension may live in any schema (another service may have created it first).
    op.execute(
        """
        DO $$
        DECLARE ext_schema text;
        BEGIN
          SELECT n.nspname INTO ext_schema FROM pg_extension e
            JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'unaccent';
          EXECUTE format(
            'CREATE OR REPLACE FUNCTION search.fold(value text) RETURNS text
               LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
               AS $f$ SELECT lower(%I.unaccent(%L::regdictionary, value)) $f$',
            ext_schema, ext_schema || '.unaccent');
        END $$
        """
    )
    # One vector per message: exact words (prefix search), English stems and French stems, all
    # over the folded text so "reparation" finds "réparation".
    op.execute(
        """
        CREATE FUNCTION search.message_vector(body text) RETURNS tsvector
          LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
          AS $$ SELECT to_tsvector('simple'::regconfig, search.fold(body))
                    || to_tsvector('english'::regconfig, search.fold(body))
                    || to_tsvector('french'::regconfig, search.fold(body)) $$
        """
    )

    op.execute(
        """
        CREATE TABLE search.customers (
          customer_id uuid PRIMARY KEY,
          account_id uuid NOT NULL,
          first_name text,
          last_name text,
          display_name text,
          name_folded text GENERATED ALWAYS AS (search.fold(coalesce(display_name, ''))) STORED,
          email text,
          dms_customer_id text,
          merged_into_customer_id uuid,
          -- Version of the applied profile (customer.changed); 0 = only known from messages.
          profile_version bigint NOT NULL DEFAULT 0,
          -- When the customer (or a profile merged into it) last wrote or was written to.
          last_activity_at timestamptz NOT NULL DEFAULT '-infinity'
        )
        """
    )
    op.execute("CREATE INDEX customers_name_trgm ON search.customers USING gin (name_folded gin_trgm_ops)")
    op.execute("CREATE INDEX customers_dms ON search.customers (account_id, dms_customer_id)")
    op.execute("CREATE INDEX customers_merged_into ON search.customers (merged_into_customer_id)")
    op.execute(
        "CREATE INDEX customers_activity ON search.customers"
        " (account_id, last_activity_at DESC, customer_id DESC)"
    )

    op.execute(
        """
        CREATE TABLE search.customer_phones (
          customer_id uuid NOT NULL REFERENCES search.customers ON DELETE CASCADE,
          e164 text NOT NULL,
          account_id uuid NOT NULL,
          kind text NOT NULL DEFAULT 'unknown',
          digits text GENERATED ALWAYS AS (regexp_replace(e164, '[^0-9]', '', 'g')) STORED,
          PRIMARY KEY (customer_id, e164)
        )
        """
    )
    op.execute(
        "CREATE INDEX customer_phones_digits ON search.customer_phones USING gin (digits gin_trgm_ops)"
    )

    op.execute(
        """
        CREATE TABLE search.conversations (
          conversation_id uuid PRIMARY KEY,
          account_id uuid NOT NULL,
          -- Unknown until a message names it (a status change can arrive first).
          customer_id uuid,
          status text NOT NULL DEFAULT 'open',
          -- When the status was decided; an older decision arriving later changes nothing.
          status_at timestamptz NOT NULL DEFAULT '-infinity',
          last_activity_at timestamptz NOT NULL DEFAULT '-infinity'
        )
        """
    )
    op.execute("CREATE INDEX conversations_customer ON search.conversations (customer_id)")

    op.execute("ALTER TABLE search.messages ADD COLUMN direction text NOT NULL DEFAULT 'inbound'")
    op.execute("ALTER TABLE search.messages ALTER COLUMN customer_phone DROP NOT NULL")
    op.execute("DROP INDEX search.messages_account_tsv")
    op.execute("ALTER TABLE search.messages DROP COLUMN body_tsv")
    op.execute(
        "ALTER TABLE search.messages ADD COLUMN body_tsv tsvector"
        " GENERATED ALWAYS AS (search.message_vector(coalesce(body, ''))) STORED"
    )
    op.execute("CREATE INDEX messages_tsv ON search.messages USING gin (body_tsv)")
    op.execute("CREATE INDEX messages_customer ON search.messages (customer_id, sent_at DESC)")

    op.execute(
        """
        CREATE TABLE search.appointments (
          account_id uuid NOT NULL,
          appointment_id text NOT NULL,
          dms_customer_id text NOT NULL,
          appointment_type text,
          type_folded text GENERATED ALWAYS AS (search.fold(coalesce(appointment_type, ''))) STORED,
          starts_at timestamptz NOT NULL,
          cancelled boolean NOT NULL DEFAULT false,
          record_version bigint NOT NULL,
          PRIMARY KEY (account_id, appointment_id)
        )
        """
    )
    op.execute(
        "CREATE INDEX appointments_type_trgm ON search.appointments USING gin (type_folded gin_trgm_ops)"
    )
    op.execute("CREATE INDEX appointments_customer ON search.appointments (account_id, dms_customer_id)")

    op.execute(
        """
        CREATE TABLE search.repair_orders (
          account_id uuid NOT NULL,
          ro_number text NOT NULL,
          -- Upper case, letters and digits only: "ro-12 345" is found as RO12345.
          ro_compact text COLLATE "C"
            GENERATED ALWAYS AS (upper(regexp_replace(ro_number, '[^0-9A-Za-z]', '', 'g'))) STORED,
          dms_customer_id text NOT NULL,
          vin text,
          status text NOT NULL,
          record_version bigint NOT NULL,
          PRIMARY KEY (account_id, ro_number)
        )
        """
    )
    op.execute(
        # Prefix search is a range on the "C"-collated value (works with prepared statements too).
        "CREATE INDEX repair_orders_compact ON search.repair_orders (account_id, ro_compact)"
    )
    op.execute("CREATE INDEX repair_orders_customer ON search.repair_orders (account_id, dms_customer_id)")

    op.execute(
        """
        CREATE TABLE search.payments (
          account_id uuid NOT NULL,
          payment_id text NOT NULL,
          dms_customer_id text NOT NULL,
          ro_number text,
          amount numeric(14, 2) NOT NULL,
          currency text NOT NULL,
          paid_at timestamptz,
          record_version bigint NOT NULL,
          PRIMARY KEY (account_id, payment_id)
        )
        """
    )
    op.execute("CREATE INDEX payments_amount ON search.payments (account_id, amount)")
    op.execute("CREATE INDEX payments_customer ON search.payments (account_id, dms_customer_id)")
