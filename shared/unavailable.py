"""Whether a handler failed because something it needs cannot be reached right now (the database
restarting or gone, a colleague service refusing connections), rather than because of the
message. Such a failure says nothing about the message: a consumer keeps retrying it, however
long the outage, instead of dead-lettering it (which would take a customer's text out of the
inbox). Only failures of the message itself go to the dead-letter topic."""

import asyncpg
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, NodeNotReadyError, RequestTimedOutError
from sqlalchemy.exc import DBAPIError

from shared.kafka.broker import PublishFailed

# PostgreSQL refusing or dropping connections: shutting down, starting up (crash recovery after
# an immediate stop), out of connection slots, or the connection gone mid-query.
_DATABASE_UNAVAILABLE = (
    asyncpg.PostgresConnectionError,  # class 08: connection exceptions
    asyncpg.CannotConnectNowError,  # 57P03: the database system is starting up
    asyncpg.AdminShutdownError,  # 57P01
    asyncpg.CrashShutdownError,  # 57P02
    asyncpg.TooManyConnectionsError,  # 53300
    asyncpg.ConnectionDoesNotExistError,  # the connection was closed mid-operation
)

# The broker restarting (a handler that publishes, a dead letter being written); PublishFailed is
# our publisher's "the broker did not acknowledge in time" (notifier reports a send's outcome
# that way: dead-lettering the request then would leave the reply unsent).
_BROKER_UNAVAILABLE = (
    KafkaConnectionError,
    KafkaTimeoutError,
    NodeNotReadyError,
    RequestTimedOutError,
    PublishFailed,
)


def dependency_unavailable(exc: BaseException) -> bool:
    """True when `exc`, or anything in its chain of causes, says a dependency is unreachable."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _DATABASE_UNAVAILABLE + _BROKER_UNAVAILABLE):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        # Refused, reset or aborted connections (the database's port closed, a service down).
        if isinstance(current, ConnectionError):
            return True
        # SQLAlchemy keeps the driver's exception in `orig`, not always as the cause.
        original = current.orig if isinstance(current, DBAPIError) else None
        current = original or current.__cause__ or current.__context__
    return False
