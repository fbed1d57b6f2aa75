"""A staff member's notification stream held open through the whole run: when the replica it
reads from dies, it reconnects to the other one with `Last-Event-ID`, as a browser's EventSource
does, and keeps every notification id it was sent (to check each arrived once)."""

import asyncio
import contextlib
import json
import re

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


class WebStream(ResumingStream):
    """The same staff member's live stream as an open inbox page holds it: signed in at the web
    inbox (its session cookie works on every web replica) and relayed by web from notifier's
    `/api/v1/live`. Each `bell` event is a notification, whose id is the second half of the
    event's `<change>-<notification>` id; when the web replica dies the stream resumes on the
    other one from the last id, as the page's EventSource does."""

    def __init__(self, web_urls: list[str], email: str, password: str, first: int = 0) -> None:
        super().__init__(web_urls, token="", first=first)
        self.email, self.password = email, password
        self.last_id = "0-0"
        self.resyncs = 0

    async def _run(self) -> None:
        async with httpx.AsyncClient(timeout=httpx.Timeout(10, read=30)) as client:
            while True:
                url = self.urls[self.replica % len(self.urls)]
                with contextlib.suppress(httpx.HTTPError, ValueError):
                    if not client.cookies:
                        await self._sign_in(client, url)
                    await self._read(client, f"{url}/live")
                self.reconnects += 1
                self.replica += 1
                await asyncio.sleep(0.3)

    async def _sign_in(self, client: httpx.AsyncClient, url: str) -> None:
        page = (await client.get(f"{url}/signin")).text
        csrf = re.search(r'name="csrftoken" value="([^"]+)"', page)
        if csrf is None:
            raise ValueError("no sign-in form")
        form = {"email": self.email, "password": self.password, "csrftoken": csrf.group(1)}
        answer = await client.post(f"{url}/signin", data=form)
        if answer.status_code >= 400:
            client.cookies.clear()
            raise ValueError(f"sign-in answered {answer.status_code}")

    async def _read(self, client: httpx.AsyncClient, url: str) -> None:
        async with client.stream("GET", url, headers={"last-event-id": self.last_id}) as response:
            if response.status_code in (401, 303, 302):
                client.cookies.clear()  # the session ended: sign in again
            if response.status_code != 200:
                return
            fields: dict[str, str] = {}
            async for line in response.aiter_lines():
                if line:
                    if not line.startswith(":") and ":" in line:
                        name, _, value = line.partition(":")
                        fields[name] = value.removeprefix(" ")
                    continue
                event, event_id = fields.get("event"), fields.get("id")
                if event == "resync":
                    self.resyncs += 1  # told it was away too long: it would miss events
                if event_id:
                    if event == "bell":
                        self.received.append(int(event_id.partition("-")[2]))
                    self.last_id = event_id
                fields = {}
