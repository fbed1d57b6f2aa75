"""exporter's fixtures: a fresh database of its own on the real PostgreSQL (exporter's history
only), topics under a fresh prefix on the real Kafka, and a stand-in for routing's HTTP API.

Routing itself is another service: here it is a small FastAPI app answering the three routes
exporter calls, so a test can shape a conversation of any size or make routing fail on purpose;
tests/e2e/test_export.py runs the real routing."""

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import httpx
import pytest
from aiobotocore.session import get_session
from aiokafka import AIOKafkaConsumer
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker
from moto.server import ThreadedMotoServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exporter import repository
from exporter.api.exports import exports_router
from exporter.domain.jobs import ExportJob
from exporter.links import DownloadLinks
from exporter.migrations import migrate
from exporter.routing_client import RoutingClient
from exporter.settings import ExporterSettings
from exporter.storage import PdfStore
from exporter.storage.chosen import pdf_store_for
from exporter.storage.local import LocalPdfStore
from exporter.usecases.events import JobEvents
from exporter.usecases.request_export import request_export
from exporter.usecases.run_export import ExportRunner, RenderPolicy
from shared.db.engine import create_engine, create_session_factory
from shared.http.auth import decode_token, issue_token
from shared.http.errors import install_error_handlers
from shared.http.staff import CurrentStaffAuthenticated, RoutingStaffDirectory
from shared.kafka.broker import EventPublisher
from shared.kafka.topics import ensure_topics
from shared.testing.infrastructure import fresh_database, kafka_bootstrap
from shared.testing.topic_prefixes import new_topic_prefix

PUBLIC_URL = "https://exports.example.test"


@pytest.fixture(scope="session")
def exporter_database_url() -> Iterator[str]:
    with fresh_database("sbexporter", migrate) as url:
        yield url


@pytest.fixture(scope="session")
def settings(exporter_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> ExporterSettings:
    return ExporterSettings(
        database_url=exporter_database_url,
        kafka_bootstrap_servers=kafka_bootstrap(),
        kafka_topic_prefix=new_topic_prefix("tx"),
        kafka_partitions=1,
        kafka_publish_timeout_seconds=3,
        storage_dir=str(tmp_path_factory.mktemp("exports")),
        public_base_url=PUBLIC_URL,
        render_chunk_size=40,
        render_retry_initial_seconds=0.01,
    )


@pytest.fixture(scope="session")
async def sessions(settings: ExporterSettings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(settings)
    yield create_session_factory(engine)
    await engine.dispose()


@pytest.fixture(scope="session")
async def publisher(settings: ExporterSettings) -> AsyncIterator[EventPublisher]:
    """A real producer on the real Kafka, as the service builds it (minus telemetry)."""
    await ensure_topics(settings)
    broker = KafkaBroker(settings.kafka_bootstrap_servers, acks="all", enable_idempotence=True)
    await broker.start()
    yield EventPublisher(broker, settings)
    await broker.stop()


@pytest.fixture(scope="session")
def links(settings: ExporterSettings) -> DownloadLinks:
    return DownloadLinks(settings.link_secret(), timedelta(days=settings.download_link_days))


@pytest.fixture(scope="session")
async def storage(settings: ExporterSettings) -> AsyncIterator[LocalPdfStore]:
    """The default store, a local folder (test_s3_storage.py runs the S3 one)."""
    store = LocalPdfStore(Path(settings.storage_dir))
    await store.start()
    yield store
    await store.close()


# --- an S3-compatible server ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 over real HTTP on a free local port: what MinIO or AWS would answer."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def s3_settings(settings: ExporterSettings, s3_endpoint: str) -> ExporterSettings:
    """The test settings with STORAGE_BACKEND=s3 on that server (its bucket made by `s3_store`)."""
    return ExporterSettings(
        **{
            **settings.model_dump(),
            "storage_backend": "s3",
            "s3_bucket": f"exports-{secrets.token_hex(4)}",
            "s3_endpoint_url": s3_endpoint,
            "s3_region": "us-east-1",
            "s3_access_key_id": "test-key-id",
            "s3_secret_access_key": "test-secret-key",
            "s3_key_prefix": "switchboard/exports/",
        }
    )


@pytest.fixture(scope="session")
async def s3_client(s3_settings: ExporterSettings) -> AsyncIterator:
    """A plain client of the same server, to look into the bucket behind the store's back."""
    async with get_session().create_client(
        "s3",
        region_name=s3_settings.s3_region,
        endpoint_url=s3_settings.s3_endpoint_url,
        aws_access_key_id="test-key-id",
        aws_secret_access_key="test-secret-key",
    ) as client:
        await client.create_bucket(Bucket=s3_settings.s3_bucket)
        yield client


@pytest.fixture(scope="session")
async def s3_store(s3_settings: ExporterSettings, s3_client) -> AsyncIterator[PdfStore]:
    """The store `create_app` builds for STORAGE_BACKEND=s3."""
    store = pdf_store_for(s3_settings)
    await store.start()
    yield store
    await store.close()


@pytest.fixture(scope="session")
def read_stored():
    """`await read_stored(store, key)`: the whole stored file, or None when there is none."""

    async def read(store: PdfStore, key: str) -> bytes | None:
        stored = await store.open(key)
        if stored is None:
            return None
        try:
            return b"".join([chunk async for chunk in stored.chunks])
        finally:
            await stored.close()

    return read


@pytest.fixture(scope="session")
def events(sessions, publisher, links) -> JobEvents:
    return JobEvents(sessions, publisher, links, PUBLIC_URL)


# --- a stand-in for routing ---------------------------------------------------------------------


@dataclass
class FakeConversation:
    account_id: UUID
    id: UUID = field(default_factory=uuid4)
    customer_name: str | None = "Émilie Tremblay"
    customer_phone: str = "+15145550199"
    status: str = "open"
    items: list[dict] = field(default_factory=list)

    def message(
        self,
        at: datetime,
        body: str,
        direction: str = "inbound",
        sender: str | None = None,
        attachments: list[dict] | None = None,
        source_kind: str = "manual",
        status: str = "received",
        error_category: str | None = None,
    ) -> None:
        self.items.append(
            {
                "id": str(uuid4()),
                "kind": "message",
                "created_at": at.isoformat(),
                "actor_user_id": str(uuid4()) if sender else None,
                "actor_name": sender,
                "data": None,
                "message": {
                    "id": str(uuid4()),
                    "direction": direction,
                    "body": body,
                    "attachments": attachments or [],
                    "sender_user_id": None,
                    "source_kind": source_kind,
                    "status": status,
                    "error_category": error_category,
                    "created_at": at.isoformat(),
                },
            }
        )

    def event(self, at: datetime, kind: str, actor: str | None, **data) -> None:
        self.items.append(
            {
                "id": str(uuid4()),
                "kind": kind,
                "created_at": at.isoformat(),
                "actor_user_id": str(uuid4()) if actor else None,
                "actor_name": actor,
                "data": data,
            }
        )


@dataclass
class FakeRouting:
    """Answers like routing's API for the conversations it holds; `fail_next` makes that many
    calls answer 503 first; `account` is what /account/settings answers (None: 404)."""

    jwt_settings: ExporterSettings
    conversations: dict[UUID, FakeConversation] = field(default_factory=dict)
    accounts: dict[UUID, dict] = field(default_factory=dict)
    # (account, user) → {"role", "active"}: the staff routing knows (GET /api/v1/users/{id}).
    users: dict[tuple[UUID, UUID], dict] = field(default_factory=dict)
    users_down: bool = False
    fail_next: int = 0
    # Seconds each timeline page takes (a long render).
    page_delay: float = 0.0
    calls: int = 0
    max_page_size_seen: int = 0

    def conversation(self, account_id: UUID, **values) -> FakeConversation:
        conversation = FakeConversation(account_id, **values)
        self.conversations[conversation.id] = conversation
        return conversation

    def app(self) -> FastAPI:
        app = FastAPI()

        def caller(request: Request) -> UUID:
            principal = decode_token(self.jwt_settings, request.headers["authorization"].split()[1])
            assert principal.role == "service" and principal.subject == "exporter"
            return principal.account_id

        def find(request: Request, conversation_id: UUID) -> FakeConversation | None:
            self.calls += 1
            found = self.conversations.get(conversation_id)
            return found if found and found.account_id == caller(request) else None

        def failing() -> JSONResponse | None:
            if self.fail_next > 0:
                self.fail_next -= 1
                return JSONResponse({"error": {"code": "unavailable"}}, status_code=503)
            return None

        not_found = JSONResponse({"error": {"code": "not_found"}}, status_code=404)

        @app.get("/api/v1/users/{user_id}")
        async def user(user_id: UUID, request: Request):
            if self.users_down:
                return JSONResponse({"error": {"code": "unavailable"}}, status_code=503)
            found = self.users.get((caller(request), user_id))
            if found is None:
                return not_found
            return {"id": str(user_id), "name": "Staff", "email": "s@example.test", **found}

        @app.get("/api/v1/account/settings")
        async def account_settings(request: Request):
            account = self.accounts.get(caller(request))
            return account if account else not_found

        @app.get("/api/v1/conversations/{conversation_id}")
        async def conversation(conversation_id: UUID, request: Request):
            if refused := failing():
                return refused
            found = find(request, conversation_id)
            if found is None:
                return not_found
            return {
                "id": str(found.id),
                "customer_name": found.customer_name,
                "customer_phone": found.customer_phone,
                "status": found.status,
            }

        @app.get("/api/v1/conversations/{conversation_id}/timeline")
        async def timeline(
            conversation_id: UUID, request: Request, limit: int = 100, cursor: str | None = None
        ):
            if refused := failing():
                return refused
            found = find(request, conversation_id)
            if found is None:
                return not_found
            self.max_page_size_seen = max(self.max_page_size_seen, limit)
            await asyncio.sleep(self.page_delay)
            start = int(cursor or 0)
            items = found.items[start : start + limit]
            more = start + limit < len(found.items)
            return {"items": items, "next_cursor": str(start + limit) if more else None}

        return app


@pytest.fixture
async def routing(settings: ExporterSettings) -> AsyncIterator[tuple[FakeRouting, RoutingClient]]:
    fake = FakeRouting(settings)
    transport = httpx.ASGITransport(app=fake.app())
    async with httpx.AsyncClient(transport=transport, base_url="http://routing") as http:
        yield fake, RoutingClient(http, settings)


@pytest.fixture(scope="session")
def render_policy(settings) -> RenderPolicy:
    return RenderPolicy(
        chunk_size=settings.render_chunk_size,
        page_size=settings.routing_page_size,
        attempts=settings.render_attempts,
        retry_initial_seconds=settings.render_retry_initial_seconds,
        lease_seconds=settings.render_lease_seconds,
    )


@pytest.fixture
def runner(sessions, routing, storage, links, events, render_policy) -> ExportRunner:
    _, client = routing
    return ExportRunner(sessions, client, storage, links, events, render_policy)


# --- staff ---------------------------------------------------------------------------------------


@dataclass
class Staff:
    """An account's admin and agents sam and kim, known to the routing stand-in `directory`."""

    settings: ExporterSettings
    directory: FakeRouting
    account_id: UUID = field(default_factory=uuid4)
    admin_id: UUID = field(default_factory=uuid4)
    sam_id: UUID = field(default_factory=uuid4)
    kim_id: UUID = field(default_factory=uuid4)

    def __post_init__(self) -> None:
        self.set_user(self.admin_id, "admin")
        for agent in (self.sam_id, self.kim_id):
            self.set_user(agent, "agent")

    def set_user(self, user_id: UUID, role: str, active: bool = True) -> None:
        self.directory.users[(self.account_id, user_id)] = {"role": role, "active": active}

    def headers(self, user_id: UUID, role: str = "agent") -> dict[str, str]:
        token = issue_token(self.settings, str(user_id), self.account_id, role)
        return {"authorization": f"Bearer {token}"}

    @property
    def admin(self) -> dict[str, str]:
        return self.headers(self.admin_id, "admin")

    @property
    def sam(self) -> dict[str, str]:
        return self.headers(self.sam_id)

    @property
    def kim(self) -> dict[str, str]:
        return self.headers(self.kim_id)


@pytest.fixture(scope="session")
def directory(settings) -> FakeRouting:
    """Routing as the staff directory of the API fixtures (users only)."""
    return FakeRouting(settings)


@pytest.fixture
def dealer(settings, directory) -> Staff:
    return Staff(settings, directory)


@pytest.fixture
def other_dealer(settings, directory) -> Staff:
    return Staff(settings, directory)


@pytest.fixture
def queued_job(sessions, events, routing, dealer):
    """Makes a conversation of `messages` texts at the stand-in routing and asks for its export as
    the dealer's agent would: the queued job."""
    fake, _ = routing

    async def make(messages: int = 3, text: str = "Ready?") -> ExportJob:
        conversation = fake.conversation(dealer.account_id)
        for i in range(messages):
            conversation.message(datetime(2026, 11, 2, 12, i, tzinfo=UTC), f"{text} #{i}")
        return await request_export(
            sessions,
            events,
            account_id=dealer.account_id,
            user_id=dealer.sam_id,
            conversation_id=conversation.id,
            since=None,
            until=None,
            time_zone=None,
        )

    return make


@pytest.fixture
def done_job(sessions, links, dealer, tmp_path):
    """Makes a finished export of `dealer` whose (stand-in) PDF is in `store` and whose link
    expires at `expires_at`: (job id, storage key, link token)."""

    async def make(store: PdfStore, expires_at: datetime) -> tuple[UUID, str, str]:
        async with sessions.begin() as session:
            job, _ = await repository.create_or_find_pending(
                session,
                account_id=dealer.account_id,
                requested_by=dealer.sam_id,
                conversation_id=uuid4(),
                since=None,
                until=None,
                time_zone=None,
            )
        source = tmp_path / f"src-{job.id}.pdf"
        source.write_bytes(b"%PDF-1.7 " + str(job.id).encode())
        key = await store.put(job.id, source)
        async with sessions.begin() as session:
            running = await repository.start_attempt(session, dealer.account_id, job.id, timedelta(minutes=5))
            await repository.mark_done(
                session, job.id, running.run_token, key, 1, expires_at, datetime.now(UTC)
            )
        return job.id, key, links.sign(job.id, expires_at)

    return make


def current_staff_auth(settings, directory: FakeRouting, **options) -> CurrentStaffAuthenticated:
    """The auth `create_app` wires, asking `directory` (the stand-in for routing) over HTTP."""
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=directory.app()), base_url="http://routing")
    return CurrentStaffAuthenticated(
        settings, RoutingStaffDirectory(settings, http, "http://routing"), **options
    )


def exports_app(sessions, auth, events, links, storage, **options) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(exports_router(sessions, auth, events, links, storage, **options))
    return app


@pytest.fixture
def make_exports_app(sessions, settings, events, links, storage):
    """`make_exports_app(directory, **auth_options)`: the exports API checking staff against that
    routing stand-in (e.g. with a clock of the test's own); `store` instead of the local one and
    `router_options` for exports_router (its clock)."""

    def make(
        routing: FakeRouting,
        *,
        store: PdfStore | None = None,
        router_options: dict | None = None,
        **auth_options,
    ) -> FastAPI:
        return exports_app(
            sessions,
            current_staff_auth(settings, routing, **auth_options),
            events,
            links,
            store or storage,
            **(router_options or {}),
        )

    return make


@pytest.fixture(scope="session")
def app(sessions, settings, directory, events, links, storage) -> FastAPI:
    """The exports API as `create_app` wires it, called in-process."""
    return exports_app(sessions, current_staff_auth(settings, directory), events, links, storage)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://exporter") as http:
        yield http


@pytest.fixture
def kafka_events(settings: ExporterSettings):
    """`await kafka_events(topic_spec, job_id)`: every event of that job on the real topic, read
    from the beginning (waits up to `timeout` for at least `at_least`)."""

    async def read(spec, job_id: UUID, at_least: int = 1, timeout: float = 15.0) -> list[dict]:
        consumer = AIOKafkaConsumer(
            f"{settings.kafka_topic_prefix}{spec.name}",
            bootstrap_servers=settings.kafka_bootstrap_servers,
            auto_offset_reset="earliest",
            group_id=f"t-{uuid4()}",
        )
        await consumer.start()
        found: list[dict] = []
        try:
            async with asyncio.timeout(timeout):
                while len(found) < at_least:
                    batch = await consumer.getmany(timeout_ms=300)
                    for records in batch.values():
                        for record in records:
                            event = json.loads(record.value)
                            if event.get("job_id") == str(job_id):
                                found.append({**event, "_key": record.key.decode()})
        except TimeoutError:
            pass
        finally:
            await consumer.stop()
        return found

    return read
