"""DriverStatement (routing/driver_statements.py) on the real PostgreSQL: the same results as
through SQLAlchemy (columns as attributes, bind processors applied), and never outside the
caller's transaction: what it writes is rolled back with it."""

from types import SimpleNamespace
from uuid import uuid4

from sqlalchemy import text

from routing.driver_statements import DriverStatement

ECHO = DriverStatement(
    text("SELECT CAST(:id AS uuid) AS id, CAST(:doc AS jsonb) -> 'n' AS n, ARRAY[1, 2] AS list")
)
CLAIM = DriverStatement(
    text(
        "INSERT INTO routing.processed_events (consumer, event_id) VALUES ('driver-test', :id)"
        " ON CONFLICT DO NOTHING RETURNING event_id"
    )
)


async def _claimed(sessions, event_id) -> bool:
    async with sessions() as session:
        return bool(
            await session.scalar(
                text("SELECT count(*) FROM routing.processed_events WHERE event_id = :id"), {"id": event_id}
            )
        )


async def test_rows_as_through_sqlalchemy_on_the_driver_inside_the_transaction(sessions):
    first, second = uuid4(), uuid4()
    async with sessions.begin() as session:
        # Nothing begun on the driver yet: through the session (which begins the transaction).
        row = await ECHO.first(session, {"id": first, "doc": '{"n": 7}'})
        assert (row.id, row.n, row.list) == (first, 7, [1, 2])
        assert not isinstance(row, SimpleNamespace)
        # Now on the driver, in the same transaction.
        row = await ECHO.first(session, {"id": second, "doc": '{"n": 8}'})
        assert (str(row.id), row.n, list(row.list)) == (str(second), 8, [1, 2])
        assert isinstance(row, SimpleNamespace)  # read on the driver
        assert str(await CLAIM.scalar(session, {"id": first})) == str(first)
        assert await CLAIM.scalar(session, {"id": first}) is None  # claimed already
        await session.rollback()
    assert not await _claimed(sessions, first)  # rolled back with the transaction

    async with sessions.begin() as session:
        await session.execute(text("SELECT 1"))
        assert str(await CLAIM.scalar(session, {"id": second})) == str(second)
    assert await _claimed(sessions, second)
