"""The five API services as real processes (like tests/e2e), logging at DEBUG so that the
secrets test can read everything they wrote, the demo dealership's staff with real tokens, and a
second dealership (the victim of the attacker's matrix) with something of every kind an id
names: a conversation, its customer and phone, a note, a saved reply, a team, a number, an
invitation, an outreach source, a notification and an export."""

import asyncio
import json
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import text

from devtools import demo
from devtools.migrate import migrate_all
from devtools.processes import ServiceProcess, service_urls, stop_services
from devtools.seed import seed_demo
from shared.db.engine import create_engine
from shared.settings import ServiceSettings
from shared.testing.infrastructure import fresh_database
from shared.testing.ports import free_ports_for
from shared.testing.topic_prefixes import new_topic_prefix
from shared.testing.waiting import eventually

API_SERVICES = ["ingest", "routing", "notifier", "search", "exporter"]
# The second dealership is created as an operator creates one: through /platform/v1.
OPERATOR_TOKEN = f"security-operator-{secrets.token_urlsafe(24)}"


@dataclass
class RunningServices:
    processes: dict[str, ServiceProcess]
    log_dir: Path
    database_url: str

    def url(self, name: str) -> str:
        return self.processes[name].url

    def logs(self) -> str:
        return "\n".join(path.read_text(errors="replace") for path in sorted(self.log_dir.glob("*.log")))


@pytest.fixture(scope="session")
def database_url(infrastructure: None) -> Iterator[str]:
    """A database of their own for these services (and a topic prefix, below): the end-to-end
    tests' services of the same session keep running, and on a shared database and prefix their
    exporter took this suite's export jobs and stored the PDFs in its own folder, so the
    download answered 404 (seen once in CI)."""
    with fresh_database("sbsecurity", _migrated_and_seeded) as url:
        yield url


@pytest.fixture(scope="session")
def topic_prefix() -> str:
    return new_topic_prefix("s")


def _migrated_and_seeded(url: str) -> None:
    migrate_all(url)
    asyncio.run(seed_demo(url))


@pytest.fixture(scope="session")
def running(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServices]:
    log_dir = Path(tmp_path_factory.mktemp("security-logs"))
    ports = free_ports_for(API_SERVICES)
    env = {
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "KAFKA_TOPIC_PREFIX": topic_prefix,
        "KAFKA_PUBLISH_TIMEOUT_SECONDS": "3",
        "KAFKA_PARTITIONS": "1",
        "LOG_FORMAT": "json",
        # Everything a service may write is read by test_secrets_in_logs.py.
        "LOG_LEVEL": "DEBUG",
        "SHUTDOWN_GRACE_SECONDS": "3",
        "OPERATOR_TOKENS": f"security={OPERATOR_TOKEN}",
        "ROUTING_URL": f"http://127.0.0.1:{ports['routing']}",
        "STORAGE_DIR": str(tmp_path_factory.mktemp("exports")),
        # The fuzzer fails thousands of sign-ins from 127.0.0.1; throttling has its own tests
        # (services/routing/tests/test_login_throttle.py) and must not slow the others here.
        "LOGIN_FREE_FAILURES": "1000000",
        "LOGIN_ACCOUNT_CEILING": "1000000",
        "LOGIN_ADDRESS_CEILING": "1000000",
        # Nothing here reaches a real carrier or lists one.
        "CATCH_UP_ENABLED": "false",
        "TWILIO_API_BASE_URL": "http://127.0.0.1:9",
        "TELNYX_API_BASE_URL": "http://127.0.0.1:9",
        # No SMTP server: nothing else on this machine (a `make run`, a test's sink) may take
        # the victim's e-mails.
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": "9",
    }
    env = {**service_urls(ports), **env}
    started = {name: ServiceProcess(name, ports[name], env, log_dir / f"{name}.log") for name in API_SERVICES}
    for service in started.values():
        service.start()
    try:
        for service in started.values():
            # A machine shared with other test runs may keep Kafka slow for a while.
            service.wait_ready(timeout=240)
    except Exception:
        stop_services(started)
        raise
    try:
        yield RunningServices(started, log_dir, database_url)
    finally:
        stop_services(started)


def login(routing_url: str, email: str, password: str) -> str:
    response = httpx.post(f"{routing_url}/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def admin_token(running: RunningServices) -> str:
    return login(running.url("routing"), demo.ADMIN_EMAIL, demo.PASSWORD)


@pytest.fixture(scope="session")
def agent_token(running: RunningServices) -> str:
    return login(running.url("routing"), demo.AGENT_EMAIL, demo.PASSWORD)


@dataclass
class Dealership:
    """Another dealership than the demo one, and the ids of what it has, by the name of the
    path parameter that names each kind."""

    account_id: uuid.UUID
    admin_email: str
    password: str
    admin_token: str = ""
    ids: dict[str, str] = field(default_factory=dict)
    # What only this dealership knows: an answer to another showing one of these leaked it.
    secrets: list[str] = field(default_factory=list)
    dms_secret: str = ""


def _accepted(http: httpx.Client, routing: str, link: str, password: str) -> str:
    """Sets the password from an invitation link, as its page does; the session's token."""
    token = parse_qs(urlsplit(link).query)["token"][0]
    return succeeded(
        http.post(f"{routing}/api/v1/invitations/accept", json={"token": token, "password": password})
    )["access_token"]


def _first_selected(database_url: str, query: str, params: dict, timeout: float) -> Any:
    """The first truthy value `query` selects within `timeout` seconds (falsy if none came)."""

    async def poll() -> Any:
        engine = create_engine(ServiceSettings(database_url=database_url))

        async def selected() -> Any:
            async with engine.connect() as connection:
                return await connection.scalar(text(query), params)

        try:
            return await eventually(selected, timeout=timeout, interval=0.2)
        finally:
            await engine.dispose()

    return asyncio.run(poll())


def _emailed_link(database_url: str, email: str) -> str:
    link = _first_selected(
        database_url,
        "SELECT context->>'link' FROM notifier.email_outbox WHERE recipient_email = :e",
        {"e": email},
        timeout=30,
    )
    if not link:
        raise AssertionError(f"no invitation e-mail was queued for {email}")
    return link


def _wait_for_row(database_url: str, table: str, account_id: uuid.UUID) -> None:
    query = f"SELECT count(*) FROM {table} WHERE account_id = :a"
    if not _first_selected(database_url, query, {"a": account_id}, timeout=60):
        raise AssertionError(f"{table} never got the victim's row")


def succeeded(response: httpx.Response) -> dict:
    """The JSON of a 200, 201 or 202 answer; anything else fails with the URL, status and body."""
    assert response.status_code in (200, 201, 202), (
        response.request.url,
        response.status_code,
        response.text,
    )
    return response.json()


@pytest.fixture(scope="session")
def victim(running: RunningServices) -> Dealership:
    """A second dealership, made as an operator makes one (routing's operator API), its admin and
    agent setting their passwords from their invitations, then given data through its own
    admin's API calls."""
    routing = running.url("routing")
    tag = uuid.uuid4().hex[:10]
    password = "victim-password-9f2c"
    admin_email, agent_email = f"admin-{tag}@victim.test", f"agent-{tag}@victim.test"
    ids: dict[str, str] = {}
    with httpx.Client(timeout=30) as http:
        created = succeeded(
            http.post(
                f"{routing}/platform/v1/dealerships",
                headers=bearer(OPERATOR_TOKEN),
                json={
                    "name": "Victim Autos",
                    "time_zone": "America/Toronto",
                    "language": "en",
                    "admin": {"name": "Vic Admin", "email": admin_email},
                },
            )
        )
        dealership = Dealership(uuid.UUID(created["id"]), admin_email, password)
        dealership.admin_token = _accepted(http, routing, created["admin_invitation"]["link"], password)
        auth = bearer(dealership.admin_token)
        ids["number_id"] = succeeded(
            http.post(
                f"{routing}/api/v1/phone-numbers",
                headers=auth,
                json={"number": f"+1438{secrets.randbelow(10**7):07d}", "carrier": "twilio"},
            )
        )["id"]
        succeeded(
            http.post(
                f"{routing}/api/v1/invitations",
                headers=auth,
                json={"email": agent_email, "name": "Val Agent", "role": "agent"},
            )
        )
        # The agent's link is only in the e-mail notifier queued (no SMTP server here).
        agent_token = _accepted(http, routing, _emailed_link(running.database_url, agent_email), password)
        ids["agent_id"] = http.get(f"{routing}/api/v1/me", headers=bearer(agent_token)).json()["id"]
        ids["user_id"] = http.get(f"{routing}/api/v1/me", headers=auth).json()["id"]
        # ingest learns the new number from routing's event; wait for it, or it would show up
        # as a change in the middle of the matrix.
        _wait_for_row(running.database_url, "ingest.catch_up_numbers", dealership.account_id)
        ids["team_id"] = succeeded(
            http.post(
                f"{routing}/api/v1/teams",
                headers=auth,
                json={"name": "Victim service", "member_ids": [ids["agent_id"]]},
            )
        )["id"]
        customer_phone = f"+1438{secrets.randbelow(10**7):07d}"
        dealership.secrets = [
            customer_phone,
            "Victim-only appointment text",
            "Victim-only saved reply",
            "Victim-only note",
            "Victim service",
            dealership.admin_email,
        ]
        sent = succeeded(
            http.post(
                f"{routing}/api/v1/outreach",
                headers=auth,
                json={
                    "customer_phone": customer_phone,
                    "body": "Victim-only appointment text",
                    "source": {"kind": "appointment", "id": "victim-appointment-1", "name": "Oil change"},
                },
            )
        )
        ids["conversation_id"] = sent["conversation_id"]
        ids["customer_id"] = sent["customer_id"]
        customer = succeeded(http.get(f"{routing}/api/v1/customers/{ids['customer_id']}", headers=auth))
        ids["phone_id"] = customer["phones"][0]["id"]
        ids["kind"] = "appointment"
        ids["source_id"] = "victim-appointment-1"
        ids["saved_reply_id"] = succeeded(
            http.post(
                f"{routing}/api/v1/saved-replies",
                headers=auth,
                json={"name": "Victim ready", "body": "Victim-only saved reply"},
            )
        )["id"]
        ids["invitation_id"] = succeeded(
            http.post(
                f"{routing}/api/v1/invitations",
                headers=auth,
                json={"email": f"new-{tag}@victim.test", "name": "New Hire", "role": "agent"},
            )
        )["id"]
        # Queued by notifier from routing's event, maybe seconds later: it must be there before
        # the attacker's matrix takes its "before" picture of the victim's rows.
        _emailed_link(running.database_url, f"new-{tag}@victim.test")
        succeeded(
            http.post(
                f"{routing}/api/v1/conversations/{ids['conversation_id']}/notes",
                headers=auth,
                json={"body": "@Val Agent Victim-only note"},
            )
        )
        ids["job_id"] = succeeded(
            http.post(
                f"{running.url('exporter')}/api/v1/exports",
                headers=auth,
                json={"conversation_id": ids["conversation_id"]},
            )
        )["job_id"]
        integration = succeeded(
            http.post(
                f"{running.url('ingest')}/api/v1/dms/integrations", headers=auth, json={"name": "Victim DMS"}
            )
        )
        ids["integration_id"] = integration["id"]
        dealership.dms_secret = integration["secret"]
        ids["notification_id"] = _wait_for_notification(running.url("notifier"), bearer(agent_token))
        _wait_for_export(running.url("exporter"), auth, ids["job_id"])
    dealership.ids = ids
    return dealership


def _first_answered(url: str, auth: dict[str, str], pick: Callable[[dict], Any], timeout: float) -> Any:
    """The first truthy `pick(answer)` of GET `url` within `timeout` seconds (falsy if none came)."""

    async def poll() -> Any:
        async with httpx.AsyncClient(timeout=30, headers=auth) as http:

            async def picked() -> Any:
                return pick((await http.get(url)).json())

            return await eventually(picked, timeout=timeout, interval=0.2)

    return asyncio.run(poll())


def _wait_for_export(exporter: str, auth: dict[str, str], job_id: str) -> None:
    def finished(job: dict) -> bool:
        return job.get("status") in {"done", "failed"}

    if not _first_answered(f"{exporter}/api/v1/exports/{job_id}", auth, finished, timeout=60):
        raise AssertionError("the victim's export never finished")


def _wait_for_notification(notifier: str, auth: dict[str, str]) -> str:
    def first_id(answer: dict) -> str | None:
        items = answer.get("items") or []
        return items[0]["id"] if items else None

    notification_id = _first_answered(f"{notifier}/api/v1/notifications", auth, first_id, timeout=30)
    if not notification_id:
        raise AssertionError("the victim's agent was never notified of the mention")
    return notification_id


async def _account_rows(database_url: str, account_id: uuid.UUID) -> dict[str, list]:
    """Every row that carries the account's id, in every service's schema: what "nothing
    changed" compares."""
    engine = create_engine(ServiceSettings(database_url=database_url))
    try:
        async with engine.connect() as connection:
            tables = (
                await connection.execute(
                    text(
                        "SELECT table_schema, table_name FROM information_schema.columns"
                        " WHERE column_name = 'account_id' AND table_schema IN"
                        " ('routing', 'ingest', 'notifier', 'search', 'exporter')"
                        " ORDER BY 1, 2"
                    )
                )
            ).all()
            rows = {}
            for schema, table in tables:
                rows_of = LEDGERS.get(
                    f"{schema}.{table}", f'SELECT * FROM "{schema}"."{table}" WHERE account_id = :a'
                )
                result = await connection.execute(
                    text(f"SELECT row_to_json(t)::text FROM ({rows_of}) t"), {"a": account_id}
                )
                rows[f"{schema}.{table}"] = sorted(
                    _without_retry_bookkeeping(row) for row in result.scalars()
                )
            return rows
    finally:
        await engine.dispose()


# Tables whose rows a background job rewrites without changing what they mean: compared by what
# they add up to. Routing's inbox counters are a ledger of +n/-n that settling folds into sums.
LEDGERS = {
    "routing.conversation_counters": (
        "SELECT status, assignee_user_id, assignee_team_id, is_read, is_unanswered, sum(n) AS n"
        " FROM routing.conversation_counters WHERE account_id = :a GROUP BY 1, 2, 3, 4, 5"
        " HAVING sum(n) <> 0"
    )
}


# Columns that workers change on their own while retrying (the victim's e-mails have no SMTP
# server here, and end 'failed' after their last try): not something a caller changed.
RETRY_BOOKKEEPING = {
    "attempts",
    "next_attempt_at",
    "last_error",
    "lease_until",
    "lease_token",
    "status",
    "sent_at",
    "to_address",
}


def _without_retry_bookkeeping(row: str) -> str:
    values = json.loads(row)
    return json.dumps({k: v for k, v in values.items() if k not in RETRY_BOOKKEEPING}, sort_keys=True)


def account_rows(database_url: str, account_id: uuid.UUID) -> dict[str, list]:
    return asyncio.run(_account_rows(database_url, account_id))


def settled_account_rows(database_url: str, account_id: uuid.UUID, quiet_seconds: float = 1.5) -> dict:
    """The account's rows once background work (consumers, outboxes) stopped changing them."""
    previous = account_rows(database_url, account_id)
    for _ in range(20):
        time.sleep(quiet_seconds)
        current = account_rows(database_url, account_id)
        if current == previous:
            return current
        previous = current
    return previous
