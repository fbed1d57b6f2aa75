"""Live streams: one queue per open connection, fed by Postgres LISTEN so a notification stored
by any replica reaches the replica that holds the user's stream."""

import asyncio
import contextlib
import json
from collections import defaultdict

import asyncpg
import structlog
from sqlalchemy.engine import make_url

log = structlog.get_logger(__name__)


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


class LiveHub:
    def __init__(self, database_url: str, channel: str, queue_size: int = 1000) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self._channel = channel
        self._queue_size = queue_size
        self._streams: dict[str, set[asyncio.Queue]] = defaultdict(set)
        self.listening = asyncio.Event()

    @property
    def open_streams(self) -> int:
        return sum(len(queues) for queues in self._streams.values())

    @contextlib.contextmanager
    def stream(self, user_id: str):
        queue: asyncio.Queue = asyncio.Queue(self._queue_size)
        self._streams[user_id].add(queue)
        try:
            yield queue
        finally:
            self._streams[user_id].discard(queue)
            if not self._streams[user_id]:
                del self._streams[user_id]

    def _dispatch(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        notification = json.loads(payload)
        for queue in self._streams.get(notification["user_id"], ()):
            try:
                queue.put_nowait(notification)
            except asyncio.QueueFull:
                # A stalled client: it will catch up from the database with Last-Event-ID.
                log.warning("live stream queue full; dropping for this connection")

    async def run(self, stop: asyncio.Event) -> None:
        connection = await asyncpg.connect(self._dsn)
        try:
            await connection.add_listener(self._channel, self._dispatch)
            self.listening.set()
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=10)
                await connection.execute("SELECT 1")  # notices a dropped connection
        finally:
            self.listening.clear()
            with contextlib.suppress(Exception):
                await connection.close()
