"""search's integration fixtures: a fresh database migrated with search's history only, its own
topic prefix on the real Kafka, the service as `create_app` wires it (consumers included) with
its lifespan running in this event loop, and a plain Kafka producer to publish events the way
their owners (routing, an integrator) do."""

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI

from search.app import create_app
from search.migrations import migrate
from search.settings import SearchSettings
from shared.contracts.conversation import MessageReceived
from shared.contracts.customer import CustomerChanged, CustomerPhone
from shared.contracts.topics import TopicSpec
from shared.http.auth import issue_token
from shared.kafka.topics import topic_name
from shared.testing.infrastructure import dsn, fresh_database, kafka_bootstrap
from shared.testing.staff_directory import StaffDirectory
from shared.testing.topic_prefixes import new_topic_prefix
from shared.testing.waiting import eventually


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    with fresh_database("sbsearch", migrate) as url:
        yield url


@pytest.fixture(scope="session")
def staff_directory() -> StaffDirectory:
    return StaffDirectory()


@pytest.fixture(scope="session")
async def staff_directory_server(staff_directory: StaffDirectory) -> AsyncIterator[StaffDirectory]:
    async with staff_directory.serving():
        yield staff_directory


@pytest.fixture(scope="session")
def settings(database_url: str, staff_directory: StaffDirectory) -> SearchSettings:
    return SearchSettings(
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap(),
        kafka_topic_prefix=new_topic_prefix("ts"),
        kafka_partitions=2,
        kafka_handler_retry_seconds=3,
        log_format="console",
        log_level="WARNING",
        shutdown_grace_seconds=3,
        routing_url=staff_directory.url,
        auth_cache_seconds=1.0,
    )


@pytest.fixture(scope="session")
async def app(settings: SearchSettings, staff_directory_server: StaffDirectory) -> AsyncIterator[FastAPI]:
    """The service with its consumers running (its lifespan, as uvicorn would run it)."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://search") as client:
        yield client


@dataclass
class Kafka:
    """Publishes events the way their producers do: JSON bytes, keyed, with a plain producer."""

    producer: AIOKafkaProducer
    settings: SearchSettings

    async def publish(self, spec: TopicSpec, event, key: str | None = None) -> None:
        body = event if isinstance(event, bytes) else event.to_bytes()
        await self.producer.send_and_wait(
            topic_name(self.settings, spec.name), body, key=(key or event.partition_key).encode()
        )


@pytest.fixture(scope="session")
async def kafka(settings: SearchSettings, app: FastAPI) -> AsyncIterator[Kafka]:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    await producer.start()
    yield Kafka(producer, settings)
    await producer.stop()


@pytest.fixture(scope="session")
async def db(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(dsn(database_url), min_size=1, max_size=3)
    yield pool
    await pool.close()


@dataclass
class Account:
    account_id: UUID
    settings: SearchSettings

    @property
    def headers(self) -> dict[str, str]:
        token = issue_token(self.settings, str(uuid4()), self.account_id, "agent")
        return {"authorization": f"Bearer {token}"}


@pytest.fixture
def account(settings: SearchSettings) -> Account:
    return Account(uuid4(), settings)


@pytest.fixture
def other_account(settings: SearchSettings) -> Account:
    return Account(uuid4(), settings)


async def search(http: httpx.AsyncClient, account: Account, q: str, **params) -> dict:
    response = await http.get("/api/v1/search", params={"q": q, **params}, headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()


def customer_ids(page: dict) -> list[str]:
    return [r["customer_id"] for r in page["results"]]


@pytest.fixture
def st():
    """The helpers tests share (test modules cannot import each other here)."""
    return SimpleNamespace(
        eventually=eventually,
        search=search,
        customer_ids=customer_ids,
        events=events,
        as_if_common=as_if_common,
    )


def as_if_common(kind: str | None):
    """Stands in for the planner's estimates: every reading (or only those of `kind`) is common,
    so customers are walked and tested for it while the other readings are collected."""

    async def estimated(_session, readings, _params):
        return [10**9 if kind in (None, r.kind) else 0 for r in readings]

    return estimated


class events:
    """Events as routing and a DMS integration publish them."""

    @staticmethod
    def customer(account: Account, customer_id: UUID, first: str, last: str, phones=(), **extra):
        return CustomerChanged(
            account_id=account.account_id,
            customer_id=customer_id,
            first_name=first,
            last_name=last,
            phones=[CustomerPhone(e164=p, kind="mobile") for p in phones],
            **extra,
        )

    @staticmethod
    def received(account: Account, customer_id: UUID, conversation_id: UUID, body: str, phone: str, **extra):
        return MessageReceived(
            account_id=account.account_id,
            conversation_id=conversation_id,
            customer_id=customer_id,
            message_id=uuid4(),
            customer_phone=phone,
            dealership_phone="+15145550199",
            body=body,
            received_at=extra.pop("at", datetime.now(UTC)),
            **extra,
        )

    @staticmethod
    def dms(account: Account, kind: str, record_id: str, version: int, payload: dict) -> bytes:
        """Raw JSON, as an integrator writes it."""
        return json.dumps(
            {
                "event_id": str(uuid4()),
                "account_id": str(account.account_id),
                "type": kind,
                "dms_record_id": record_id,
                "record_version": version,
                "occurred_at": datetime.now(UTC).isoformat(),
                "payload": payload,
            }
        ).encode()
