"""One Alembic history per service schema, run without an alembic.ini.

A service's `migrations/env.py` calls `run_env(schema)`; its CLI calls `upgrade(...)`."""

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine


def upgrade(database_url: str, schema: str, migrations_dir: Path, revision: str = "head") -> None:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["schema"] = schema
    command.upgrade(config, revision)


def run_env(schema: str) -> None:
    """The body of every service's env.py: online migrations inside the service's schema."""
    url = context.config.get_main_option("sqlalchemy.url")
    asyncio.run(_run_online(url, schema))


async def _run_online(url: str, schema: str) -> None:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    async with engine.begin() as connection:
        # Several replicas may start at once: one migrates, the others wait and find nothing to do.
        await connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:s))"), {"s": schema})
        await connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        await connection.run_sync(_migrate, schema)
    await engine.dispose()


def _migrate(connection: Connection, schema: str) -> None:
    context.configure(
        connection=connection,
        target_metadata=None,
        version_table_schema=schema,
        include_schemas=True,
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()
