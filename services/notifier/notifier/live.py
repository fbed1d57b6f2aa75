"""Live streams: one in-process queue per open connection, all fed by ONE Postgres LISTEN
connection per process, so a notification stored by any replica reaches the replica that holds
the user's stream and a thousand open streams cost a thousand small queues, not a thousand
database connections.

A stream that may have missed something — its queue overflowed (a stalled client), the listener
reconnected, or a notification was too big for a NOTIFY payload — is marked `behind` and reads
what it missed from the table, after the last id it sent; so nothing is lost and nothing is sent
twice.

A message naming an `account_id` (a conversation change, a typing signal) goes to the account's
streams (those opened with an account: /api/v1/live); any other names a `user_id` and goes to
that user's streams."""

import asyncio
import contextlib
import json
from collections import defaultdict
from collections.abc import Iterator

import asyncpg
import structlog
from sqlalchemy.engine import make_url

log = structlog.get_logger(__name__)


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


class LiveStream:
    """One open connection's inbox."""

    def __init__(self, queue_size: int) -> None:
        self.queue: asyncio.Queue[dict] = asyncio.Queue(queue_size)
        self.behind = False
        self.wakeup = asyncio.Event()

    def offer(self, notification: dict) -> None:
        if notification.get("fetch"):
            self.fall_behind()
            return
        try:
            self.queue.put_nowait(notification)
        except asyncio.QueueFull:
            # A read mark or a typing signal lost here is harmless: the client's next count or
            # list shows the one, the other is repeated while the person types.
            if "read" not in notification and "typing" not in notification:
                self.fall_behind()
        self.wakeup.set()

    def fall_behind(self) -> None:
        self.behind = True
        self.wakeup.set()


class LiveHub:
    def __init__(self, database_url: str, channel: str, queue_size: int = 1000) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self._channel = channel
        self._queue_size = queue_size
        self._streams: dict[str, set[LiveStream]] = defaultdict(set)
        self._accounts: dict[str, set[LiveStream]] = defaultdict(set)
        self.listening = asyncio.Event()

    @property
    def open_streams(self) -> int:
        return sum(len(streams) for streams in self._streams.values())

    @contextlib.contextmanager
    def stream(self, user_id: str, account_id: str | None = None) -> Iterator[LiveStream]:
        """A stream of the user's messages, and of the account's when `account_id` is given."""
        stream = LiveStream(self._queue_size)
        keys = [(self._streams, user_id)] + ([(self._accounts, account_id)] if account_id else [])
        for streams, key in keys:
            streams[key].add(stream)
        try:
            yield stream
        finally:
            for streams, key in keys:
                streams[key].discard(stream)
                if not streams[key]:
                    del streams[key]

    def dispatch(self, payload: str) -> None:
        message = json.loads(payload)
        if "account_id" in message:
            targets = self._accounts.get(message["account_id"], ())
        else:
            targets = self._streams.get(message["user_id"], ())
        for stream in targets:
            stream.offer(message)

    def _on_notify(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            self.dispatch(payload)
        except (ValueError, KeyError):
            log.warning("unreadable live notification ignored")

    def _everyone_behind(self) -> None:
        for streams in (*self._streams.values(), *self._accounts.values()):
            for stream in streams:
                stream.fall_behind()

    async def run(self, stop: asyncio.Event) -> None:
        connection = await asyncpg.connect(self._dsn, server_settings={"application_name": "notifier-live"})
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        try:
            await connection.add_listener(self._channel, self._on_notify)
            # Anything stored while no listener was up is read from the table by each stream.
            self._everyone_behind()
            self.listening.set()
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(_first(stop, lost), timeout=10)
                if lost.is_set():
                    raise ConnectionError("the LISTEN connection was lost")
                await connection.execute("SELECT 1")  # notices a silently dropped connection
        finally:
            self.listening.clear()
            # Until the listener is back, streams cannot trust their queues.
            self._everyone_behind()
            with contextlib.suppress(Exception):
                await connection.close()


async def _first(*events: asyncio.Event) -> None:
    waits = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
