"""routing's integration fixtures: a fresh database of its own on the real PostgreSQL (migrated
with routing's history only), the staff API called in-process, and a new dealership per test so
tests never see each other's conversations."""

import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from routing.admin.usecases.errors import NumberTaken
from routing.app import api_routers
from routing.conversations.usecases.read_state import refresh_conversations
from routing.messaging.usecases.inbound import record_inbound_message
from routing.migrations import migrate
from routing.seed import seed_account
from routing.settings import RoutingSettings
from routing.tables import conversations, messages
from shared.contracts.carrier import CarrierInbound
from shared.db.engine import create_engine, create_session_factory
from shared.http.auth import issue_token
from shared.http.errors import install_error_handlers
from shared.testing.infrastructure import fresh_database

PASSWORD = "routing-tests"


@pytest.fixture(scope="session")
def routing_database_url() -> Iterator[str]:
    with fresh_database("sbrouting", migrate) as url:
        yield url


@pytest.fixture(scope="session")
def settings(routing_database_url: str) -> RoutingSettings:
    return RoutingSettings(database_url=routing_database_url)


@pytest.fixture(scope="session")
async def sessions(settings: RoutingSettings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(settings)
    yield create_session_factory(engine)
    await engine.dispose()


@pytest.fixture(scope="session")
def app(sessions: async_sessionmaker[AsyncSession], settings: RoutingSettings) -> FastAPI:
    """The staff API as `create_app` wires it, minus Kafka (events stay in the outbox)."""
    app = FastAPI()
    install_error_handlers(app)
    for router in api_routers(settings, sessions):
        app.include_router(router)
    return app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://routing") as http:
        yield http


@dataclass
class Dealership:
    """One account: an admin, two agents in team "Service", one agent outside it."""

    account_id: UUID
    number: str
    admin_id: UUID
    sam_id: UUID
    kim_id: UUID
    lou_id: UUID
    team_id: UUID
    settings: RoutingSettings
    sessions: async_sessionmaker[AsyncSession]

    def headers(self, user_id: UUID) -> dict[str, str]:
        role = "admin" if user_id == self.admin_id else "agent"
        token = issue_token(self.settings, str(user_id), self.account_id, role)
        return {"authorization": f"Bearer {token}"}

    @property
    def admin(self) -> dict[str, str]:
        return self.headers(self.admin_id)

    @property
    def sam(self) -> dict[str, str]:
        return self.headers(self.sam_id)

    async def receive(self, at: datetime, body: str = "hello", customer_number: str | None = None) -> UUID:
        """A customer text stored the way the carrier consumer stores it; the conversation id."""
        number = customer_number or f"+1438{secrets.randbelow(10**7):07d}"
        event = CarrierInbound(
            account_id=self.account_id,
            carrier="twilio",
            carrier_message_id=f"SM{uuid4().hex}",
            from_number=number,
            to_number=self.number,
            body=body,
            received_at=at,
        )
        async with self.sessions.begin() as session:
            message_id = await record_inbound_message(session, event, "US")
            return await session.scalar(select(messages.c.conversation_id).where(messages.c.id == message_id))

    async def answered(self, conversation_id: UUID, at: datetime) -> None:
        """There is no outbound sending yet: only the conversation's answer time moves."""
        async with self.sessions.begin() as session:
            await session.execute(
                update(conversations).where(conversations.c.id == conversation_id).values(last_outbound_at=at)
            )

    async def set_assignee(self, conversation_id: UUID, user_id: UUID | None = None, team_id=None) -> None:
        async with self.sessions.begin() as session:
            await session.execute(
                update(conversations)
                .where(conversations.c.id == conversation_id)
                .values(assignee_user_id=user_id, assignee_team_id=team_id)
            )
            await refresh_conversations(session, self.account_id, [conversation_id])


async def new_dealership(sessions: async_sessionmaker[AsyncSession], settings: RoutingSettings) -> Dealership:
    tag = secrets.token_hex(3)
    ids = {key: uuid4() for key in ("account", "number", "admin", "sam", "kim", "lou", "team")}
    # Numbers are unique across accounts and the suite seeds a thousand dealerships or more in one
    # database, so a random number is sometimes taken already (one in ~20 runs): draw again.
    for attempt in range(5):
        number = f"+1514{secrets.randbelow(10**7):07d}"
        try:
            async with sessions.begin() as session:
                await seed_account(
                    session,
                    account_id=ids["account"],
                    name=f"Dealer {tag}",
                    phone=(ids["number"], number, "twilio"),
                    staff=[
                        (ids["admin"], f"alex.{tag}@dealer.test", "Alex Admin", "admin", PASSWORD),
                        (ids["sam"], f"sam.{tag}@dealer.test", "Sam Agent", "agent", PASSWORD),
                        (ids["kim"], f"kim.{tag}@dealer.test", "Kim Lee", "agent", PASSWORD),
                        (ids["lou"], f"lou.{tag}@dealer.test", "Lou Outsider", "agent", PASSWORD),
                    ],
                    team=(ids["team"], "Service", [ids["sam"], ids["kim"]]),
                )
            break
        except NumberTaken:
            if attempt == 4:
                raise
    return Dealership(
        account_id=ids["account"],
        number=number,
        admin_id=ids["admin"],
        sam_id=ids["sam"],
        kim_id=ids["kim"],
        lou_id=ids["lou"],
        team_id=ids["team"],
        settings=settings,
        sessions=sessions,
    )


@pytest.fixture
async def dealer(sessions, settings) -> Dealership:
    return await new_dealership(sessions, settings)


@pytest.fixture
async def other_dealer(sessions, settings) -> Dealership:
    return await new_dealership(sessions, settings)


@pytest.fixture
def ago():
    """`ago(hours)`: a moment that many hours before now."""

    def hours_ago(hours: float) -> datetime:
        return datetime.now(UTC) - timedelta(hours=hours)

    return hours_ago


async def list_pages(client: httpx.AsyncClient, headers: dict, limit: int, **params) -> list[list[dict]]:
    """Every page of GET /api/v1/conversations, following the cursor header."""
    pages: list[list[dict]] = []
    cursor = None
    while True:
        query = {**params, "limit": limit}
        if cursor:
            query["cursor"] = cursor
        response = await client.get("/api/v1/conversations", headers=headers, params=query)
        assert response.status_code == 200, response.text
        pages.append(response.json()["items"])
        cursor = response.json()["next_cursor"]
        if not cursor:
            return pages


@pytest.fixture
def pages():
    return list_pages


@pytest.fixture
def listed():
    """`await listed(client, headers, **params)`: every conversation, by id."""

    async def _listed(client: httpx.AsyncClient, headers: dict, **params) -> dict[str, dict]:
        found = [row for page in await list_pages(client, headers, 200, **params) for row in page]
        return {row["id"]: row for row in found}

    return _listed
