"""A staff member's notification stream held open through the whole run: when the replica it
reads from dies, it reconnects to the other one with `Last-Event-ID`, as a browser's EventSource
does, and keeps every notification id it was sent (to check each arrived once)."""

import asyncio
import contextlib
import json

import httpx


class ResumingStream:
    def __init__(self, notifier_urls: list[str], token: str, start: int = 0, first: int = 0) -> None:
        self.urls = notifier_urls
        self.token = token
        self.last_id = str(start)
        self.replica = first
        self.received: list[int] = []
        self.reconnects = 0
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        async with httpx.AsyncClient(timeout=httpx.Timeout(10, read=30)) as client:
            while True:
                url = self.urls[self.replica % len(self.urls)]
                with contextlib.suppress(httpx.HTTPError, ValueError):
                    await self._read(client, f"{url}/api/v1/notifications/stream")
                # The stream ended or failed: the next replica, from the last id received.
                self.reconnects += 1
                self.replica += 1
                await asyncio.sleep(0.3)

    async def _read(self, client: httpx.AsyncClient, url: str) -> None:
        headers = {"authorization": f"Bearer {self.token}", "last-event-id": self.last_id}
        async with client.stream("GET", url, headers=headers) as response:
            if response.status_code != 200:
                return
            fields: dict[str, str] = {}
            async for line in response.aiter_lines():
                if line:
                    if not line.startswith(":") and ":" in line:
                        name, _, value = line.partition(":")
                        fields[name] = value.removeprefix(" ")
                    continue
                if fields.get("id") and fields.get("event") not in ("ready", "read"):
                    json.loads(fields.get("data", "{}"))
                    self.received.append(int(fields["id"]))
                    self.last_id = fields["id"]
                fields = {}
