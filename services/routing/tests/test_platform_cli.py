"""`python -m routing.platform`: the operator use cases from a command line, run as a process on
the real PostgreSQL the way a Kubernetes Job or `kubectl exec` runs it."""

import json
import os
import secrets
import subprocess
import sys

from sqlalchemy import select

from routing.tables import accounts


def cli(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "LOG_FORMAT": "console"}
    return subprocess.run(
        [sys.executable, "-m", "routing.platform", "--operator", "jo@ops", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_create_suspend_resume_and_audit_from_the_command_line(routing_database_url, sessions):
    tag = secrets.token_hex(4)
    create = (
        "create-dealership",
        "--name",
        f"Rive-Sud Honda {tag}",
        "--time-zone",
        "America/Montreal",
        "--language",
        "fr_CA",
        "--admin-name",
        "Dom Owner",
        "--admin-email",
        f"dom.{tag}@rivesud.test",
        "--idempotency-key",
        f"job-{tag}",
    )
    first = cli(routing_database_url, *create)
    assert first.returncode == 0, first.stderr
    created = json.loads(first.stdout)
    assert created["admin_invitation"]["link"].startswith("http")
    # A Job re-run with the same key: the same dealership, none created.
    again = cli(routing_database_url, *create, "--hide-link")
    assert again.returncode == 0, again.stderr
    replayed = json.loads(again.stdout)
    assert replayed["id"] == created["id"] and replayed["admin_invitation"]["link"] is None

    suspended = cli(routing_database_url, "suspend", created["id"], "--reason", "trial ended")
    assert suspended.returncode == 0, suspended.stderr
    assert json.loads(suspended.stdout)["status"] == "suspended"
    async with sessions() as session:
        assert (
            await session.scalar(select(accounts.c.status).where(accounts.c.id == created["id"]))
            == "suspended"
        )
    assert json.loads(cli(routing_database_url, "resume", created["id"]).stdout)["status"] == "active"

    trail = json.loads(cli(routing_database_url, "audit", "--account-id", created["id"]).stdout)
    assert [(line["action"], line["operator"], line["outcome"]) for line in trail] == [
        ("dealership.resume", "jo@ops", "ok"),
        ("dealership.suspend", "jo@ops", "ok"),
        ("dealership.create", "jo@ops", "replayed"),
        ("dealership.create", "jo@ops", "ok"),
    ]
    listed = json.loads(cli(routing_database_url, "list-dealerships").stdout)
    assert created["id"] in [d["id"] for d in listed]


async def test_bad_input_and_unknown_dealerships_are_refused_plainly(routing_database_url):
    bad_zone = cli(
        routing_database_url,
        "create-dealership",
        "--name",
        "Nowhere Motors",
        "--time-zone",
        "Mars/Olympus",
        "--admin-name",
        "X",
        "--admin-email",
        "x@nowhere.test",
    )
    assert bad_zone.returncode == 2
    assert "time_zone" in bad_zone.stderr and "Traceback" not in bad_zone.stderr
    unknown = cli(routing_database_url, "suspend", "00000000-0000-4000-8000-000000000000")
    assert unknown.returncode == 1
    assert json.loads(unknown.stderr)["error"]["code"] == "not_found"
