"""Cross-service fixtures: a fresh database and topic prefix per test session, on the real
PostgreSQL and Kafka that `make test` started (or that DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS name)."""

import asyncio
import subprocess
from collections.abc import Iterator

import pytest

from devtools.migrate import migrate_all
from devtools.seed import seed_demo
from shared.testing.infrastructure import ROOT, fresh_database, postgres_url
from shared.testing.infrastructure import kafka_bootstrap as started_kafka
from shared.testing.topic_prefixes import new_topic_prefix


@pytest.fixture(scope="session")
def infrastructure() -> None:
    postgres_url()
    started_kafka()


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
    return started_kafka()


def kafka_is_ours() -> bool:
    """True when the scripts run the broker (so a test may stop and start it)."""
    status = subprocess.run(
        ["bash", str(ROOT / "infra/kafka.sh"), "status"], capture_output=True, text=True, check=False
    )
    return status.stdout.strip() == "running"


@pytest.fixture(scope="session")
def topic_prefix() -> str:
    return new_topic_prefix("t")
