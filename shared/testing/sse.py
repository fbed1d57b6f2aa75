"""A small server-sent-events client for tests: reads one stream in the background and
collects its events (the `ready` event the notifier sends first marks it open)."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx


@dataclass
class SseEvent:
    id: str | None
    event: str
    data: dict


class SseStream:
    """Collects events from one stream in the background."""

    def __init__(self, url: str, token: str, last_event_id: str | None = None) -> None:
        self.url = url
        self.token = token
        self.last_event_id = last_event_id
        self.events: list[SseEvent] = []
        self.ready = asyncio.Event()
        self._arrived = asyncio.Condition()
        self._task: asyncio.Task | None = None

    async def _read(self) -> None:
        headers = {"authorization": f"Bearer {self.token}"}
        if self.last_event_id:
            headers["last-event-id"] = self.last_event_id
        async with (
            httpx.AsyncClient(timeout=httpx.Timeout(10, read=None)) as client,
            client.stream("GET", self.url, headers=headers) as response,
        ):
            response.raise_for_status()
            fields: dict[str, str] = {}
            async for line in response.aiter_lines():
                if line == "":
                    if "data" in fields:
                        await self._emit(fields)
                    fields = {}
                elif not line.startswith(":") and ":" in line:
                    name, _, value = line.partition(":")
                    fields[name] = value.removeprefix(" ")

    async def _emit(self, fields: dict[str, str]) -> None:
        event = SseEvent(fields.get("id"), fields.get("event", "message"), json.loads(fields["data"]))
        if event.event == "ready":
            self.ready.set()
            return
        async with self._arrived:
            self.events.append(event)
            self._arrived.notify_all()

    async def wait_for(self, predicate, timeout: float = 30.0) -> SseEvent:
        async def _wait() -> SseEvent:
            async with self._arrived:
                while True:
                    for event in self.events:
                        if predicate(event):
                            return event
                    await self._arrived.wait()

        return await asyncio.wait_for(_wait(), timeout)

    @contextlib.asynccontextmanager
    async def open(self) -> AsyncIterator["SseStream"]:
        self._task = asyncio.create_task(self._read())
        try:
            await asyncio.wait_for(self.ready.wait(), 10)
            yield self
        finally:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
