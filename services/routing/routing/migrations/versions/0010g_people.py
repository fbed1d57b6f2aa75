"""Dealer groups: a person (one e-mail, one password) may work at several dealerships.

`people` holds what belongs to the person across Switchboard: the login e-mail, the password
hash, when their sessions were last ended (a password set or reset ends them everywhere) and the
dealership they last worked in. A `users` row stays what it was, one person's seat in one
dealership (name, role, active, teams, own preferences), so every id that other tables and
services keep (assignees, senders, team members, notifications) keeps meaning one person in one
dealership. `users.email` is kept as a copy of the person's, for the many readers that show it;
a trigger keeps it equal when the person's changes.

Existing data: each user becomes a person of the same id (e-mails were unique across accounts).

Revision ID: 0010g
"""

import sqlalchemy as sa
from alembic import op

revision = "0010g"
down_revision = "0009i"
branch_labels = None
depends_on = None

S = "routing"


def upgrade() -> None:
    op.create_table(
        "people",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=True),
        sa.Column("sessions_valid_after", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_account_id", sa.Uuid, sa.ForeignKey(f"{S}.accounts.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=S,
    )
    op.create_index("people_email", "people", [sa.text("lower(email)")], unique=True, schema=S)
    op.execute(
        f"""
        INSERT INTO {S}.people (id, email, password_hash, sessions_valid_after, last_account_id, created_at)
        SELECT id, email, password_hash, sessions_valid_after, account_id, coalesce(created_at, now())
        FROM {S}.users
        """
    )
    op.add_column("users", sa.Column("person_id", sa.Uuid, nullable=True), schema=S)
    op.execute(f"UPDATE {S}.users SET person_id = id")
    op.alter_column("users", "person_id", nullable=False, schema=S)
    op.create_foreign_key(
        "users_person", "users", "people", ["person_id"], ["id"], source_schema=S, referent_schema=S
    )
    op.create_unique_constraint("users_one_seat_per_account", "users", ["person_id", "account_id"], schema=S)
    # The e-mail is unique per person now, so per dealership among its staff.
    op.drop_index("users_email", table_name="users", schema=S)
    op.create_index(
        "users_account_email", "users", ["account_id", sa.text("lower(email)")], unique=True, schema=S
    )
    op.drop_column("users", "password_hash", schema=S)
    op.drop_column("users", "sessions_valid_after", schema=S)
    op.execute(
        f"""
        CREATE FUNCTION {S}.people_email_to_users() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE {S}.users SET email = NEW.email
            WHERE person_id = NEW.id AND email IS DISTINCT FROM NEW.email;
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        f"""
        CREATE TRIGGER people_email_to_users AFTER UPDATE OF email ON {S}.people
            FOR EACH ROW EXECUTE FUNCTION {S}.people_email_to_users();
        """
    )


def downgrade() -> None:
    """Only possible while nobody works at two dealerships (e-mails were unique across them)."""
    op.execute(f"DROP TRIGGER people_email_to_users ON {S}.people")

    op.execute(f"DROP FUNCTION {S}.people_email_to_users()")
    op.add_column("users", sa.Column("password_hash", sa.Text, nullable=True), schema=S)
    op.add_column(
        "users", sa.Column("sessions_valid_after", sa.DateTime(timezone=True), nullable=True), schema=S
    )
    op.execute(
        f"""
        UPDATE {S}.users u SET password_hash = coalesce(p.password_hash, ''),
            sessions_valid_after = p.sessions_valid_after
        FROM {S}.people p WHERE p.id = u.person_id
        """
    )
    op.alter_column("users", "password_hash", nullable=False, schema=S)
    op.drop_index("users_account_email", table_name="users", schema=S)
    op.create_index("users_email", "users", [sa.text("lower(email)")], unique=True, schema=S)
    op.drop_constraint("users_one_seat_per_account", "users", schema=S)
    op.drop_constraint("users_person", "users", schema=S)
    op.drop_column("users", "person_id", schema=S)
    op.drop_table("people", schema=S)
