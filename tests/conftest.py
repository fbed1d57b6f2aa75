"""Cross-service fixtures: a fresh database and topic prefix per test session, on the real
PostgreSQL and Kafka that `make test` started (or that DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS name)."""

import asyncio
import os
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from devtools.migrate import migrate_all
from devtools.seed import seed_demo
from shared.testing.infrastructure import fresh_database

ROOT = Path(__file__).resolve().parent.parent
_PG_PORT = os.environ.get("SWITCHBOARD_PG_PORT", "55432")
DEFAULT_DATABASE_URL = f"postgresql+asyncpg://switchboard:switchboard@127.0.0.1:{_PG_PORT}/switchboard"
DEFAULT_KAFKA = f"localhost:{os.environ.get('SWITCHBOARD_KAFKA_PORT', '9092')}"


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def infrastructure() -> None:
    if not os.environ.get("DATABASE_URL"):
        subprocess.run(["bash", str(ROOT / "infra/postgres.sh"), "start"], check=True)
    if not os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        subprocess.run(["bash", str(ROOT / "infra/kafka.sh"), "start"], check=True)


def _migrated_and_seeded(url: str) -> None:
    migrate_all(url)
    asyncio.run(seed_demo(url))


@pytest.fixture(scope="session")
def database_url(infrastructure: None) -> Iterator[str]:
    """A database of its own, migrated and seeded with the demo dealership, dropped afterwards."""
    with fresh_database("sbtest", _migrated_and_seeded) as url:
        yield url


@pytest.fixture(scope="session")
def kafka_bootstrap(infrastructure: None) -> str:
    return os.environ.get("KAFKA_BOOTSTRAP_SERVERS", DEFAULT_KAFKA)


def kafka_is_ours() -> bool:
    """True when the scripts run the broker (so a test may stop and start it)."""
    status = subprocess.run(
        ["bash", str(ROOT / "infra/kafka.sh"), "status"], capture_output=True, text=True, check=False
    )
    return status.stdout.strip() == "running"


@pytest.fixture(scope="session")
def topic_prefix() -> str:
    return f"t{secrets.token_hex(4)}."
