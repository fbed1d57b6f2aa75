"""Statements on the hot path executed straight on the asyncpg connection under the session's
transaction. Through SQLAlchemy each execution costs ~150-200 µs of Python on top of asyncpg's own
~60 (the ORM session, the greenlet switch, the execution context, the result's metadata): an
inbound text pays two such statements. Compiled once with SQLAlchemy's asyncpg dialect (same SQL,
same casts, same bind processors), executed as asyncpg's cached prepared statements.

Only inside a transaction the driver has already begun (a statement before it went through
SQLAlchemy, which begins lazily): otherwise it goes through the session, so it can never run
outside the caller's transaction."""

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable

_DIALECT = asyncpg_dialect()


class DriverStatement:
    def __init__(self, statement: Executable) -> None:
        compiled = statement.compile(dialect=_DIALECT)
        self.statement = statement
        self.sql = compiled.string
        # The bind processors SQLAlchemy would apply (JSONB serialised, ...), by parameter name.
        processors: dict[str, Callable[[Any], Any]] = compiled._bind_processors
        self._order = [(name, processors.get(name)) for name in compiled.positiontup or ()]

    def _arguments(self, params: dict[str, Any]) -> list[Any]:
        return [params[name] if process is None else process(params[name]) for name, process in self._order]

    async def first(self, session: AsyncSession, params: dict[str, Any]) -> SimpleNamespace | None:
        """The first row (its columns as attributes), or None."""
        driver = await _driver_in_transaction(session)
        if driver is None:
            return (await session.execute(self.statement, params)).first()
        record = await driver.fetchrow(self.sql, *self._arguments(params))
        return None if record is None else SimpleNamespace(**dict(record.items()))

    async def all(self, session: AsyncSession, params: dict[str, Any]) -> list[SimpleNamespace]:
        """Every row (its columns as attributes)."""
        driver = await _driver_in_transaction(session)
        if driver is None:
            return list((await session.execute(self.statement, params)).all())
        return [
            SimpleNamespace(**dict(record.items()))
            for record in await driver.fetch(self.sql, *self._arguments(params))
        ]

    async def execute_each(self, session: AsyncSession, params: list[dict[str, Any]]) -> None:
        """The statement once per parameter set, in order, results discarded: through the driver
        in one pipelined round trip (asyncpg's executemany), not one round trip each."""
        if not params:
            return
        driver = await _driver_in_transaction(session)
        if driver is None:
            for each in params:
                await session.execute(self.statement, each)
            return
        await driver.executemany(self.sql, [self._arguments(each) for each in params])

    async def scalar(self, session: AsyncSession, params: dict[str, Any]) -> Any:
        """The first column of the first row, or None."""
        driver = await _driver_in_transaction(session)
        if driver is None:
            return await session.scalar(self.statement, params)
        return await driver.fetchval(self.sql, *self._arguments(params))


async def _driver_in_transaction(session: AsyncSession) -> Any:
    if not session.in_transaction():
        return None
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    return driver if driver is not None and driver.is_in_transaction() else None
