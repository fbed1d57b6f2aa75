"""A pooled connection the database has dropped (a restart, a failover, an idle timeout) is
replaced before a session uses it: detected by the driver when its socket closed, or by a ping
when it sat idle longer than the setting."""

import asyncio
import secrets

import asyncpg
import pytest
from sqlalchemy import text

from shared.db.engine import create_engine, create_session_factory
from shared.settings import ServiceSettings
from shared.testing.infrastructure import dsn, postgres_url


async def _drop_backends(application_name: str) -> int:
    admin = await asyncpg.connect(dsn(postgres_url()))
    try:
        return await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
            application_name,
        )
    finally:
        await admin.close()


@pytest.mark.parametrize("ping_after_idle", [0.05, 3600.0])
async def test_a_dropped_pooled_connection_is_replaced_before_use(ping_after_idle):
    name = f"pool-check-{secrets.token_hex(4)}"
    settings = ServiceSettings(
        service_name=name,
        database_url=postgres_url(),
        database_pool_size=1,
        database_ping_after_idle_seconds=ping_after_idle,
    )
    engine = create_engine(settings)
    sessions = create_session_factory(engine)
    try:
        async with sessions() as session:
            first = await session.scalar(text("SELECT pg_backend_pid()"))
        assert await _drop_backends(name) == 1
        await asyncio.sleep(0.2)
        async with sessions() as session:
            second = await session.scalar(text("SELECT pg_backend_pid()"))
        assert second != first
    finally:
        await engine.dispose()


async def test_a_busy_pool_reuses_its_connection_without_pinging():
    name = f"pool-busy-{secrets.token_hex(4)}"
    settings = ServiceSettings(service_name=name, database_url=postgres_url(), database_pool_size=1)
    engine = create_engine(settings)
    sessions = create_session_factory(engine)
    pings = 0
    try:
        async with sessions() as session:
            await session.execute(text("SELECT 1"))
            raw = (await session.connection()).sync_connection.connection.dbapi_connection
        original = type(raw).ping

        def counting_ping(self):
            nonlocal pings
            pings += 1
            return original(self)

        type(raw).ping = counting_ping
        try:
            for _ in range(5):
                async with sessions() as session:
                    await session.execute(text("SELECT 1"))
        finally:
            type(raw).ping = original
        assert pings == 0
    finally:
        await engine.dispose()
