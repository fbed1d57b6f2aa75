"""search.fold and search.message_vector in PL/pgSQL: the same values, computed without parsing
SQL for every row written.

fold cannot be inlined (unaccent is only STABLE), so as a SQL function each call site parsed and
planned its body again whenever a statement ran: five times for every text search indexes (three
folds in message_vector, two for the customer's name_folded, once for the upsert's proposed row and
once for the update), about a third of what PostgreSQL spent on indexing a text. A PL/pgSQL
function keeps its compiled body for the connection's life. message_vector folds the body once
instead of three times (fold is deterministic: the vector is the same).

Revision ID: 0005s
Revises: 0004s
"""

from alembic import op

revision = "0005s"
down_revision = "0004s"
branch_labels = None
depends_on = None

# The extension may live in any schema (another service may have created it first).
_FOLD = """
DO $$
DECLARE ext_schema text;
BEGIN
  SELECT n.nspname INTO ext_schema FROM pg_extension e
    JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'unaccent';
  EXECUTE format(%s, ext_schema, ext_schema || '.unaccent');
END $$
"""


def upgrade() -> None:
    op.execute(
        _FOLD
        % """'CREATE OR REPLACE FUNCTION search.fold(value text) RETURNS text
               LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT
               AS $f$ BEGIN RETURN lower(%I.unaccent(%L::regdictionary, value)); END $f$'"""
    )
    op.execute(
        """
        CREATE OR REPLACE FUNCTION search.message_vector(body text) RETURNS tsvector
          LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT
          AS $$
          DECLARE folded text := search.fold(body);
          BEGIN
            RETURN to_tsvector('simple'::regconfig, folded)
                || to_tsvector('english'::regconfig, folded)
                || to_tsvector('french'::regconfig, folded);
          END $$
        """
    )


def downgrade() -> None:
    op.execute(
        _FOLD
        % """'CREATE OR REPLACE FUNCTION search.fold(value text) RETURNS text
               LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
               AS $f$ SELECT lower(%I.unaccent(%L::regdictionary, value)) $f$'"""
    )
    op.execute(
        """
        CREATE OR REPLACE FUNCTION search.message_vector(body text) RETURNS tsvector
          LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
          AS $$ SELECT to_tsvector('simple'::regconfig, search.fold(body))
                    || to_tsvector('english'::regconfig, search.fold(body))
                    || to_tsvector('french'::regconfig, search.fold(body)) $$
        """
    )
