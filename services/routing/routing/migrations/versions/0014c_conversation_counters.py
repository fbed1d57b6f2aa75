"""The inbox menus' numbers without a pass over the account's conversations: counters per
(account, status, assignee, read, unanswered), kept by triggers on `conversations` in the same
transaction as each change, whatever code made it (inbound text, reply, assignment, close, reopen,
auto-close, merge, read marks, team changes, a hand-written UPDATE).

At 100,000 conversations the grouped pass cost ~31 ms, and a covering index did not help: even a
bare index-only `count(*)` of the account's rows takes most of that time (bench/README.md).

The counters are a ledger: each statement that changes conversations appends one row per group
it moved (+n or -n), never updating a row in place, so writers never wait on each other or
deadlock over a hot counter. A reader sums an account's rows. Settling (routing/conversations/
counters.py, in the background) replaces an account's rows by their sums, keeping them few.

Revision ID: 0014c
"""

from alembic import op

revision = "0014c"
down_revision = "0013r"
branch_labels = None
depends_on = None

S = "routing"

# What routing/conversations/queries.py calls is_read() and is_unanswered(), over a row set;
# tests/test_conversation_counters.py checks that the two agree.
_KEY = """account_id, status, assignee_user_id, assignee_team_id,
    (last_inbound_at IS NULL OR coalesce(owner_read_at >= last_inbound_at, false)),
    (last_inbound_at IS NOT NULL AND (last_outbound_at IS NULL OR last_outbound_at < last_inbound_at))"""
_COLUMNS = "account_id, status, assignee_user_id, assignee_team_id, is_read, is_unanswered"


def upgrade() -> None:
    op.execute(
        f"""
        CREATE TABLE {S}.conversation_counters (
            account_id uuid NOT NULL,
            status text NOT NULL,
            assignee_user_id uuid,
            assignee_team_id uuid,
            is_read boolean NOT NULL,
            is_unanswered boolean NOT NULL,
            n integer NOT NULL,
            -- false: a change appended by the trigger; true: a sum written by settling.
            settled boolean NOT NULL DEFAULT false
        )"""
    )
    op.execute(f"CREATE INDEX conversation_counters_account ON {S}.conversation_counters (account_id)")
    op.execute(
        f"CREATE INDEX conversation_counters_unsettled ON {S}.conversation_counters (account_id) "
        "WHERE NOT settled"
    )
    # One function for every kind of statement; transition tables give the rows it changed, so a
    # bulk assignment of 10,000 conversations appends a handful of rows, not 20,000.
    op.execute(
        f"""
        CREATE FUNCTION {S}.count_conversation_changes() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                INSERT INTO {S}.conversation_counters ({_COLUMNS}, n)
                SELECT {_KEY}, count(*) FROM new_rows GROUP BY 1, 2, 3, 4, 5, 6;
            ELSIF TG_OP = 'DELETE' THEN
                INSERT INTO {S}.conversation_counters ({_COLUMNS}, n)
                SELECT {_KEY}, -count(*) FROM old_rows GROUP BY 1, 2, 3, 4, 5, 6;
            ELSE
                INSERT INTO {S}.conversation_counters ({_COLUMNS}, n)
                SELECT {_COLUMNS}, sum(n) FROM (
                    SELECT {_KEY}, -1 FROM old_rows
                    UNION ALL
                    SELECT {_KEY}, 1 FROM new_rows
                ) AS moved ({_COLUMNS}, n)
                GROUP BY 1, 2, 3, 4, 5, 6
                HAVING sum(n) <> 0;
            END IF;
            RETURN NULL;
        END
        $$"""
    )
    for event, tables in (
        ("INSERT", "NEW TABLE AS new_rows"),
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
    ):
        op.execute(
            f"CREATE TRIGGER conversation_counters_{event.lower()} AFTER {event} ON {S}.conversations "
            f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION {S}.count_conversation_changes()"
        )
    # TRUNCATE fires no row trigger: it empties the counters too.
    op.execute(
        f"""
        CREATE FUNCTION {S}.clear_conversation_counters() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM {S}.conversation_counters;
            RETURN NULL;
        END
        $$"""
    )
    op.execute(
        f"CREATE TRIGGER conversation_counters_truncate AFTER TRUNCATE ON {S}.conversations "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {S}.clear_conversation_counters()"
    )
    # The triggers exist before this count: CREATE TRIGGER's lock holds writers back until the
    # migration commits, so no change falls between the count and the triggers.
    op.execute(
        f"""
        INSERT INTO {S}.conversation_counters ({_COLUMNS}, n, settled)
        SELECT {_KEY}, count(*), true FROM {S}.conversations GROUP BY 1, 2, 3, 4, 5, 6"""
    )


def downgrade() -> None:
    for event in ("insert", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER conversation_counters_{event} ON {S}.conversations")
    op.execute(f"DROP FUNCTION {S}.count_conversation_changes()")
    op.execute(f"DROP FUNCTION {S}.clear_conversation_counters()")
    op.execute(f"DROP TABLE {S}.conversation_counters")
