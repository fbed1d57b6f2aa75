"""A consumer's handler failing because the database (or a colleague service) cannot be reached
is retried for as long as the outage lasts, never dead-lettered: the chaos run found texts
dead-lettered, so out of the inbox, when PostgreSQL was down longer than
KAFKA_HANDLER_RETRY_SECONDS. A failure of the message itself still stops at the deadline."""

import asyncpg
import httpx
import pytest
from aiokafka.errors import KafkaConnectionError
from sqlalchemy.exc import InterfaceError, OperationalError, ProgrammingError
from tenacity import AsyncRetrying, retry_if_not_exception_type, wait_none

from shared.http.staff import StaffDirectoryUnavailable
from shared.kafka.broker import PublishFailed
from shared.kafka.consumer import _PERMANENT, _stop_unless_unavailable
from shared.unavailable import dependency_unavailable


def _raised(make):
    try:
        make()
    except Exception as exc:  # the chain of causes is what is looked at
        return exc
    raise AssertionError("nothing raised")


def _directory_down():
    try:
        raise httpx.ConnectError("All connection attempts failed") from ConnectionRefusedError(111, "refused")
    except httpx.ConnectError as exc:
        raise StaffDirectoryUnavailable("routing did not answer") from exc


def _publish_timed_out():
    # What notifier's handler raised in the chaos run while the broker was down: the outbound
    # request was dead-lettered, the reply would never have been sent.
    try:
        raise TimeoutError()
    except TimeoutError as exc:
        raise PublishFailed("publish to sms.outbound_status.v1 failed: TimeoutError()") from exc


def _sqlalchemy_over(driver_error: Exception, kind=OperationalError):
    raise kind("SELECT 1", {}, driver_error)


@pytest.mark.parametrize(
    "failure",
    [
        lambda: _sqlalchemy_over(ConnectionRefusedError(111, "Connect call failed")),
        lambda: _sqlalchemy_over(asyncpg.CannotConnectNowError("the database system is starting up")),
        lambda: _sqlalchemy_over(asyncpg.AdminShutdownError("terminating connection"), InterfaceError),
        lambda: _sqlalchemy_over(asyncpg.ConnectionDoesNotExistError("connection was closed")),
        _directory_down,
        lambda: (_ for _ in ()).throw(KafkaConnectionError("Unable to bootstrap from localhost:9092")),
        _publish_timed_out,
    ],
    ids=[
        "refused",
        "starting-up",
        "shutdown",
        "closed-mid-query",
        "colleague-service-down",
        "broker-down",
        "publish-not-acknowledged",
    ],
)
def test_an_unreachable_dependency_is_recognised_through_the_chain(failure):
    assert dependency_unavailable(_raised(failure))


@pytest.mark.parametrize(
    "failure",
    [
        lambda: _sqlalchemy_over(
            asyncpg.UntranslatableCharacterError("unsupported Unicode escape sequence"), ProgrammingError
        ),
        lambda: (_ for _ in ()).throw(ValueError("not a number of account")),
        lambda: (_ for _ in ()).throw(KeyError("conversation")),
    ],
    ids=["nul-in-text", "domain-refusal", "bug"],
)
def test_a_failure_of_the_message_itself_is_not_an_outage(failure):
    assert not dependency_unavailable(_raised(failure))


async def _handle(failures: list[Exception], retry_seconds: float) -> int:
    """Runs a handler that raises `failures` one per attempt, then succeeds; the attempts made."""
    attempts = 0
    async for attempt in AsyncRetrying(
        retry=retry_if_not_exception_type(_PERMANENT),
        stop=_stop_unless_unavailable(retry_seconds),
        wait=wait_none(),
        reraise=True,
    ):
        with attempt:
            attempts += 1
            if failures:
                raise failures.pop(0)
    return attempts


async def test_an_outage_longer_than_the_retry_deadline_is_waited_out():
    down = [_raised(lambda: _sqlalchemy_over(ConnectionRefusedError(111, "refused"))) for _ in range(200)]
    # 200 failed attempts take far longer than the deadline of 1 ms: still handled in the end.
    assert await _handle(down, retry_seconds=0.001) == 201


async def test_a_message_that_keeps_failing_stops_at_the_deadline():
    with pytest.raises(KeyError):
        await _handle([KeyError("bug")] * 100_000, retry_seconds=0.05)
