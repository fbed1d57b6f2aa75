"""ingest's integration fixtures: a fresh database of its own (ingest's migrations only), a topic
prefix of its own on the real Kafka, the real app (its lifespan starts the broker) called
in-process, a reader that collects what reached the carrier topics, and a stand-in for routing's
users endpoint over real HTTP (staff tokens of the admin API are checked there)."""

import asyncio
import contextlib
import json
import secrets
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from fastapi import FastAPI

from devtools.carrier_simulator.telnyx import new_key_pair
from ingest.app import create_app
from ingest.migrations import migrate
from ingest.repository import save_telnyx_account, save_twilio_account
from ingest.settings import IngestSettings
from shared.contracts.topics import CARRIER_INBOUND, CARRIER_REJECTED, CARRIER_STATUS
from shared.db.engine import create_engine, create_session_factory
from shared.http.auth import issue_token
from shared.testing.infrastructure import fresh_database, kafka_bootstrap
from shared.testing.staff_directory import StaffDirectory
from shared.testing.topic_prefixes import new_topic_prefix

BASE_URL = "https://ingest.example.test"
CARRIER_TOPICS = (CARRIER_INBOUND, CARRIER_STATUS, CARRIER_REJECTED)


@pytest.fixture(scope="session")
def ingest_database_url() -> Iterator[str]:
    with fresh_database("sbingest", migrate) as url:
        yield url


@pytest.fixture(scope="session")
def staff_directory() -> StaffDirectory:
    return StaffDirectory()


@pytest.fixture(scope="session")
async def staff_directory_server(staff_directory: StaffDirectory) -> AsyncIterator[StaffDirectory]:
    async with staff_directory.serving():
        yield staff_directory


@dataclass
class Staff:
    """One staff member of an account, with a token as routing's login issues it."""

    account_id: uuid.UUID
    user_id: uuid.UUID
    role: str
    settings: IngestSettings

    @property
    def headers(self) -> dict[str, str]:
        token = issue_token(self.settings, str(self.user_id), self.account_id, self.role)  # type: ignore[arg-type]
        return {"authorization": f"Bearer {token}"}


@pytest.fixture
def staff(staff_directory: StaffDirectory, ingest_settings: IngestSettings) -> Callable[..., Staff]:
    """`staff(role, account_id=None)`: a member routing knows with that role, in a new account
    unless one is given."""

    def make(role: str = "admin", account_id: uuid.UUID | None = None) -> Staff:
        member = Staff(account_id or uuid.uuid4(), uuid.uuid4(), role, ingest_settings)
        staff_directory.users[member.user_id] = {"role": role, "active": True}
        return member

    return make


@pytest.fixture(scope="session")
def ingest_settings(ingest_database_url: str, staff_directory: StaffDirectory) -> IngestSettings:
    return IngestSettings(
        database_url=ingest_database_url,
        kafka_bootstrap_servers=kafka_bootstrap(),
        kafka_topic_prefix=new_topic_prefix("ti"),
        kafka_partitions=1,
        log_level="WARNING",
        credentials_cache_seconds=0,
        routing_url=staff_directory.url,
        auth_cache_seconds=1.0,
        # Tests drive catch-up cycles themselves (test_catch_up.py), against the simulator.
        catch_up_enabled=False,
    )


@pytest.fixture(scope="session")
async def ingest_app(
    ingest_settings: IngestSettings, staff_directory_server: StaffDirectory
) -> AsyncIterator[FastAPI]:
    app = create_app(ingest_settings)
    async with app.router.lifespan_context(app):
        yield app
    admin = AIOKafkaAdminClient(bootstrap_servers=ingest_settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        ours = [t for t in await admin.list_topics() if t.startswith(ingest_settings.kafka_topic_prefix)]
        with contextlib.suppress(Exception):
            await admin.delete_topics(ours)
    finally:
        await admin.close()


@dataclass
class KafkaReader:
    """Everything published on the carrier topics, as (topic name without prefix, JSON)."""

    prefix: str
    records: list[tuple[str, dict]] = field(default_factory=list)
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def wait_for(self, topic: str, match: Callable[[dict], bool], timeout: float = 15.0) -> dict:
        async def _wait() -> dict:
            async with self.arrived:
                while True:
                    for name, value in self.records:
                        if name == topic and match(value):
                            return value
                    await self.arrived.wait()

        return await asyncio.wait_for(_wait(), timeout)

    async def all(self, topic: str, match: Callable[[dict], bool], settle: float = 1.5) -> list[dict]:
        """Every record matching, after waiting `settle` seconds for stragglers (for "only once")."""
        await asyncio.sleep(settle)
        return [value for name, value in self.records if name == topic and match(value)]


@pytest.fixture(scope="session")
async def kafka(ingest_app: FastAPI, ingest_settings: IngestSettings) -> AsyncIterator[KafkaReader]:
    prefix = ingest_settings.kafka_topic_prefix
    consumer = AIOKafkaConsumer(
        *(f"{prefix}{spec.name}" for spec in CARRIER_TOPICS),
        bootstrap_servers=ingest_settings.kafka_bootstrap_servers,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    reader = KafkaReader(prefix)

    async def collect() -> None:
        async for record in consumer:
            async with reader.arrived:
                reader.records.append((record.topic.removeprefix(prefix), json.loads(record.value)))
                reader.arrived.notify_all()

    task = asyncio.create_task(collect())
    # Partitions are assigned asynchronously; wait until they are, so nothing is missed.
    for _ in range(100):
        if consumer.assignment():
            break
        await asyncio.sleep(0.1)
    yield reader
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
    await consumer.stop()


@pytest.fixture
async def client(ingest_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=ingest_app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        yield http


@pytest.fixture(scope="session")
async def sessions(ingest_settings: IngestSettings):
    engine = create_engine(ingest_settings)
    yield create_session_factory(engine)
    await engine.dispose()


@dataclass
class TwilioAccount:
    account_id: uuid.UUID
    account_sid: str
    auth_token: str
    number: str


@dataclass
class TelnyxAccount:
    account_id: uuid.UUID
    private_key: str
    public_key: str
    number: str


def new_number() -> str:
    return f"+1514{secrets.randbelow(10**7):07d}"


@pytest.fixture
async def twilio_account(sessions) -> TwilioAccount:
    account = TwilioAccount(uuid.uuid4(), f"AC{secrets.token_hex(16)}", secrets.token_hex(16), new_number())
    async with sessions.begin() as session:
        await save_twilio_account(session, account.account_sid, account.auth_token, account.account_id)
    return account


@pytest.fixture
async def telnyx_account(sessions) -> TelnyxAccount:
    private, public = new_key_pair()
    account = TelnyxAccount(uuid.uuid4(), private, public, new_number())
    async with sessions.begin() as session:
        await save_telnyx_account(session, account.account_id, public, [account.number])
    return account
