"""notifier's integration fixtures: its own database on the real PostgreSQL (routing's and
notifier's schemas: routing is the staff directory e-mail addresses come from), its own topic
prefix on the real Kafka, a real SMTP server in-process (aiosmtpd), and both services served
by uvicorn in this process — the notifier with its Kafka consumers, live hub and e-mail worker
as `create_app` wires them (outbound sending aside)."""

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from types import SimpleNamespace
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest
import uvicorn
from aiokafka import AIOKafkaProducer
from aiosmtpd.controller import Controller
from fastapi import FastAPI

from notifier.app import wire_notifications
from notifier.migrations import migrate as migrate_notifier
from notifier.settings import NotifierSettings
from routing.admin.usecases.errors import NumberTaken
from routing.app import api_routers as routing_api_routers
from routing.migrations import migrate as migrate_routing
from routing.seed import seed_account
from routing.settings import RoutingSettings
from shared.contracts.base import Event
from shared.contracts.conversation import ConversationsAssigned, MessageReceived
from shared.contracts.topics import TopicSpec
from shared.db.engine import create_engine, create_session_factory
from shared.http.auth import issue_token
from shared.http.errors import install_error_handlers
from shared.kafka.topics import topic_name
from shared.service import build_app, build_infrastructure
from shared.testing.infrastructure import dsn, fresh_database
from shared.testing.infrastructure import kafka_bootstrap as started_kafka
from shared.testing.ports import free_port
from shared.testing.sse import SseStream
from shared.testing.topic_prefixes import new_topic_prefix
from shared.testing.waiting import eventually


def _routing_and_notifier_schemas(url: str) -> None:
    migrate_routing(url)
    migrate_notifier(url)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    with fresh_database("sbnotifier", _routing_and_notifier_schemas) as url:
        yield url


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    return started_kafka()


# --- SMTP ----------------------------------------------------------------------------------------


class Mailbox:
    """What the SMTP server received, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, _server, _session, envelope) -> str:
        message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        self.messages.append(message)
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in m["To"]]


class SmtpServer:
    """A real SMTP server on a fixed port that a test may stop and start again."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.mailbox = Mailbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller:
            self._controller.stop()
            self._controller = None


@pytest.fixture(scope="session")
def smtp() -> SmtpServer:
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


# --- the two services ----------------------------------------------------------------------------


class Served:
    """An ASGI app served by uvicorn on a free port, in this event loop."""

    def __init__(self, app: FastAPI) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            lifespan="on",
            log_level="warning",
            timeout_graceful_shutdown=3,
        )
        self.server = uvicorn.Server(config)
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> "Served":
        self._task = asyncio.create_task(self.server.serve())
        for _ in range(600):
            if self.server.started:
                return self
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.05)
        raise TimeoutError("server did not start")

    async def __aexit__(self, *_exc) -> None:
        self.server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._task, 20)


@pytest.fixture(scope="session")
def routing_settings(database_url: str) -> RoutingSettings:
    return RoutingSettings(database_url=database_url)


@pytest.fixture(scope="session")
async def routing(routing_settings: RoutingSettings) -> AsyncIterator[Served]:
    """routing's staff API (the user directory), without Kafka."""
    engine = create_engine(routing_settings)
    app = FastAPI()
    install_error_handlers(app)
    for router in routing_api_routers(routing_settings, create_session_factory(engine)):
        app.include_router(router)
    async with Served(app) as served:
        yield served
    await engine.dispose()


@pytest.fixture(scope="session")
def settings(database_url: str, kafka_bootstrap: str, smtp: SmtpServer, routing: Served) -> NotifierSettings:
    return NotifierSettings(
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap,
        kafka_topic_prefix=new_topic_prefix("tn"),
        kafka_partitions=2,
        kafka_handler_retry_seconds=5,
        routing_url=routing.url,
        smtp_port=smtp.port,
        smtp_timeout_seconds=3,
        email_poll_seconds=0.2,
        email_retry_base_seconds=0.3,
        email_retry_max_seconds=1.0,
        email_max_attempts=30,
        sse_ping_seconds=2,
        # The live feed's consumers may join after a test published: read from the start here.
        live_consumer_offset_reset="earliest",
        log_format="console",
        log_level="WARNING",
        shutdown_grace_seconds=3,
    )


@pytest.fixture(scope="session")
async def notifier(settings: NotifierSettings) -> AsyncIterator[Served]:
    infra = build_infrastructure(settings)
    part = wire_notifications(infra, settings)
    app = build_app(
        infra,
        title="notifier under test",
        description="",
        routers=part.routers,
        background_jobs=part.background_jobs,
        on_shutdown=part.on_shutdown,
    )
    async with Served(app) as served:
        for _ in range(200):
            if part.hub.listening.is_set():
                break
            await asyncio.sleep(0.05)
        served.hub = part.hub
        yield served


@pytest.fixture(scope="session")
async def kafka(settings: NotifierSettings, notifier: Served) -> AsyncIterator["Kafka"]:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    await producer.start()
    yield Kafka(producer, settings)
    await producer.stop()


@dataclass
class Kafka:
    """Publishes contract events the way their owners do (JSON, keyed)."""

    producer: AIOKafkaProducer
    settings: NotifierSettings

    async def publish(self, spec: TopicSpec, event: Event) -> None:
        await self.producer.send_and_wait(
            topic_name(self.settings, spec.name), event.to_bytes(), key=event.partition_key.encode()
        )


@pytest.fixture(scope="session")
async def db(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(dsn(database_url), min_size=1, max_size=4)
    yield pool
    await pool.close()


@pytest.fixture
async def http(notifier: Served) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=notifier.url, timeout=15) as client:
        yield client


# --- dealerships -------------------------------------------------------------------------------


@dataclass
class Dealership:
    """One account in routing: admin Alex; Sam and Kim in team Service; Lou outside it."""

    account_id: UUID
    team_id: UUID
    users: dict[str, UUID]
    emails: dict[str, str]
    settings: NotifierSettings

    def headers(self, who: str) -> dict[str, str]:
        role = "admin" if who == "alex" else "agent"
        token = issue_token(self.settings, str(self.users[who]), self.account_id, role)
        return {"authorization": f"Bearer {token}"}


async def new_dealership(database_url: str, settings: NotifierSettings) -> Dealership:
    tag = secrets.token_hex(3)
    users = {name: uuid4() for name in ("alex", "sam", "kim", "lou")}
    emails = {name: f"{name}.{tag}@dealer.test" for name in users}
    account_id, team_id = uuid4(), uuid4()
    engine = create_engine(RoutingSettings(database_url=database_url))
    # Numbers are unique across accounts; a random one is sometimes taken already: draw again.
    for attempt in range(5):
        try:
            async with create_session_factory(engine).begin() as session:
                await seed_account(
                    session,
                    account_id=account_id,
                    name=f"Dealer {tag}",
                    phone=(uuid4(), f"+1514{secrets.randbelow(10**7):07d}", "twilio"),
                    staff=[
                        (users["alex"], emails["alex"], "Alex Admin", "admin", "notifier-tests"),
                        (users["sam"], emails["sam"], "Sam Agent", "agent", "notifier-tests"),
                        (users["kim"], emails["kim"], "Kim Lee", "agent", "notifier-tests"),
                        (users["lou"], emails["lou"], "Lou Outsider", "agent", "notifier-tests"),
                    ],
                    team=(team_id, "Service", [users["sam"], users["kim"]]),
                )
            break
        except NumberTaken:
            if attempt == 4:
                raise
    await engine.dispose()
    return Dealership(account_id, team_id, users, emails, settings)


@pytest.fixture
async def dealer(database_url, settings) -> Dealership:
    return await new_dealership(database_url, settings)


@pytest.fixture
async def other_dealer(database_url, settings) -> Dealership:
    return await new_dealership(database_url, settings)


# --- helpers, handed to tests as the `nt` fixture (test modules cannot import each other) --------


def message_event(account_id: UUID, notify: list[UUID], **overrides) -> MessageReceived:
    values = dict(
        account_id=account_id,
        conversation_id=uuid4(),
        customer_id=uuid4(),
        message_id=uuid4(),
        customer_name="Marie Tremblay",
        customer_phone="+15145551234",
        dealership_phone="+15145550100",
        body=f"Is my car ready? {uuid4().hex[:6]}",
        received_at=datetime.now(UTC),
        notify_user_ids=notify,
    )
    return MessageReceived(**{**values, **overrides})


def assigned_event(account_id: UUID, actor: UUID, notify: list[UUID], **overrides) -> ConversationsAssigned:
    values = dict(
        account_id=account_id,
        conversation_ids=[uuid4()],
        assignee_name="Sam Agent",
        actor_user_id=actor,
        actor_name="Alex Admin",
        notify_user_ids=notify,
    )
    return ConversationsAssigned(**{**values, **overrides})


async def feed(http: httpx.AsyncClient, headers: dict, **params) -> list[dict]:
    response = await http.get("/api/v1/notifications", headers=headers, params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def unread(http: httpx.AsyncClient, headers: dict) -> int:
    response = await http.get("/api/v1/notifications/unread-count", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["unread"]


def of_event(items: list[dict], key: str, value: str) -> list[dict]:
    return [item for item in items if item["data"].get(key) == value]


@pytest.fixture
def nt() -> SimpleNamespace:
    return SimpleNamespace(
        eventually=eventually,
        message_event=message_event,
        assigned_event=assigned_event,
        feed=feed,
        unread=unread,
        of_event=of_event,
        SseStream=SseStream,
    )
