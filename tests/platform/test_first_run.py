"""The first run works wherever the clone lives (issue 15, item 1): the local PostgreSQL starts from a
clone inside a folder only its owner may enter (root's 0700 home: the `postgres` user cannot), and
a port held by another clone is reported with that clone's folder and the command that stops it,
not as a bind error in a log. Each test uses its own copy of infra/ on a free port, so the suite's
PostgreSQL and Kafka are never touched."""

import asyncio
import glob
import os
import shutil
import subprocess
from pathlib import Path

import asyncpg
import pytest

from shared.testing.ports import free_port

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not glob.glob("/usr/lib/postgresql/*/bin/initdb"),
    reason="PostgreSQL is not installed here (infra/postgres.sh installs it when run as root)",
)


def _clone(parent: Path, name: str) -> Path:
    """A stand-in clone: what the infra scripts need (they find their state from their folder)."""
    clone = parent / name
    clone.mkdir(parents=True)
    shutil.copytree(ROOT / "infra", clone / "infra")
    return clone


def _infra(clone: Path, script: str, command: str, **ports: int) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "SWITCHBOARD_STATE_DIR")
    }
    env.update({f"SWITCHBOARD_{name.upper()}_PORT": str(port) for name, port in ports.items()})
    return subprocess.run(
        ["bash", str(clone / "infra" / script), command],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


async def _database_name(port: int) -> str:
    connection = await asyncpg.connect(
        host="127.0.0.1", port=port, user="switchboard", password="switchboard", database="switchboard"
    )
    try:
        return await connection.fetchval("SELECT current_database()")
    finally:
        await connection.close()


def test_postgres_starts_from_a_private_folder_and_a_second_clone_is_told_who_holds_the_port(tmp_path):
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    os.chmod(home, 0o700)
    first = _clone(home, "switchboard")
    other = _clone(tmp_path, "other-clone")
    port = free_port()
    try:
        started = _infra(first, "postgres.sh", "start", pg=port)
        assert started.returncode == 0, started.stderr
        assert asyncio.run(_database_name(port)) == "switchboard"
        if os.getuid() == 0:
            # The postgres user cannot enter the 0700 folder: the cluster lives where it can.
            where = _infra(first, "postgres.sh", "dir", pg=port).stdout.strip()
            assert where.startswith("/var/lib/postgresql/switchboard/"), where
            assert (first / ".state" / "postgres-location").read_text().strip() == where

        again = _infra(first, "postgres.sh", "start", pg=port)
        assert again.returncode == 0 and "already running" in again.stderr, again.stderr

        # Another clone wanting the same port: who holds it and how to stop it, at once.
        clash = _infra(other, "postgres.sh", "start", pg=port)
        assert clash.returncode != 0
        assert f"the Switchboard clone in {first}" in clash.stderr, clash.stderr
        assert f"make -C {first} stop-infra" in clash.stderr, clash.stderr
        assert "SWITCHBOARD_PG_PORT=" in clash.stderr  # or other ports for this clone
        assert "already in use" not in clash.stderr
        other_dir = Path(_infra(other, "postgres.sh", "dir", pg=port).stdout.strip())
        assert not (other_dir / "data" / "PG_VERSION").exists()  # nothing made before the check

        # Kafka on a taken port says so before fetching anything.
        kafka = _infra(other, "kafka.sh", "start", kafka=port, kafka_controller=free_port())
        assert kafka.returncode != 0
        assert f"port {port} is taken by the Switchboard clone in {first}: PostgreSQL" in kafka.stderr
    finally:
        for clone in (other, first):
            removed = _infra(clone, "postgres.sh", "remove", pg=port)
            assert removed.returncode == 0, removed.stderr
    assert _infra(first, "postgres.sh", "status", pg=port).stdout.strip() == "stopped"
