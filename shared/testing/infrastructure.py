"""Where the test infrastructure is, started on demand, and a fresh database per session."""

import asyncio
import contextlib
import functools
import os
import secrets
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
_PG_PORT = os.environ.get("SWITCHBOARD_PG_PORT", "55432")
DEFAULT_DATABASE_URL = f"postgresql+asyncpg://switchboard:switchboard@127.0.0.1:{_PG_PORT}/switchboard"
DEFAULT_KAFKA = f"localhost:{os.environ.get('SWITCHBOARD_KAFKA_PORT', '9092')}"


def dsn(url: str) -> str:
    """A SQLAlchemy URL as a plain libpq DSN (for asyncpg)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@functools.cache  # once per test process: every conftest asks
def postgres_url() -> str:
    """The server's base URL, starting the project's PostgreSQL when no DATABASE_URL is given."""
    base = os.environ.get("DATABASE_URL")
    if base:
        return base
    subprocess.run(["bash", str(ROOT / "infra/postgres.sh"), "start"], check=True)
    return DEFAULT_DATABASE_URL


@functools.cache
def kafka_bootstrap() -> str:
    """The brokers, starting the project's Kafka when no KAFKA_BOOTSTRAP_SERVERS is given."""
    servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if servers:
        return servers
    subprocess.run(["bash", str(ROOT / "infra/kafka.sh"), "start"], check=True)
    return DEFAULT_KAFKA


async def _admin(base_url: str, sql: str) -> None:
    connection = await asyncpg.connect(dsn(base_url))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@contextlib.contextmanager
def fresh_database(prefix: str, prepare: Callable[[str], None]) -> Iterator[str]:
    """A new database named `<prefix>_<hex>` on the test server, `prepare(url)`d (migrated,
    seeded), and dropped afterwards whatever happened."""
    base = postgres_url()
    name = f"{prefix}_{secrets.token_hex(4)}"
    asyncio.run(_admin(base, f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(base).set(database=name).render_as_string(hide_password=False)
        prepare(url)
        yield url
    finally:
        asyncio.run(_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
