"""The load of a chaos run: customers texting in (signed Twilio and Telnyx webhooks, built by the
carrier simulator's own code), staff replying through routing's API, and what was acknowledged.

The senders behave as the outside world does: a load balancer sends a request to the other
replica when a connection is refused (nothing was sent); Twilio posts an inbound webhook once,
Telnyx retries three times a second apart; a staff client retries a reply with the same
`Idempotency-Key` until it gets an answer. Only what was answered 2xx counts as acknowledged."""

import asyncio
import contextlib
import secrets
import time
import uuid
from dataclasses import dataclass

import asyncpg
import httpx

from devtools import demo
from devtools.carrier_simulator.telnyx import post_event, received_event
from devtools.carrier_simulator.twilio import inbound_sms_form, post_inbound
from shared.testing.infrastructure import dsn


@dataclass
class InboundText:
    seq: int
    carrier: str
    carrier_id: str
    phone: str
    body: str
    phase: str
    sent_at: float
    status: int | None = None
    acked_at: float | None = None
    seen_at: float | None = None

    @property
    def acked(self) -> bool:
        return self.acked_at is not None


@dataclass
class StaffReply:
    seq: int
    conversation_id: str
    body: str
    phase: str
    status: int | None = None
    accepted_at: float | None = None
    attempts: int = 0

    @property
    def accepted(self) -> bool:
        return self.accepted_at is not None


def customer_phones(count: int) -> list[str]:
    # Last four digits 1000-8999: none of the simulator's failure numbers (failures.py, 00xx).
    return [f"+1514556{1000 + n:04d}" for n in range(count)]


class Traffic:
    def __init__(self, ingest_urls: list[str], routing_urls: list[str], database_url: str) -> None:
        self.ingest_urls = ingest_urls
        self.routing_urls = routing_urls
        self.database_url = database_url
        self.tag = secrets.token_hex(3)
        self.phase = "steady"
        self.texts: list[InboundText] = []
        self.replies: list[StaffReply] = []
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(10, connect=2), limits=httpx.Limits(max_connections=300)
        )
        self._tasks: set[asyncio.Task] = set()
        self._token: str | None = None

    async def close(self) -> None:
        await self.drain()
        await self.client.aclose()

    async def drain(self, timeout: float = 90.0) -> None:
        """Waits for every request under way (Telnyx retries, reply retries) to finish."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)

    def _spawn(self, coroutine) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- customers texting in ----------------------------------------------------------------

    async def texts_in(self, rate: float, phones: list[str], stop: asyncio.Event) -> None:
        """`rate` texts a second, half Twilio and half Telnyx, until `stop`."""
        interval, next_at = 1.0 / rate, time.monotonic()
        while not stop.is_set():
            seq = len(self.texts)
            carrier = "twilio" if seq % 2 == 0 else "telnyx"
            phone = phones[seq % len(phones)]
            text = InboundText(
                seq, carrier, "", phone, f"chaos {self.tag} text {seq}", self.phase, time.time()
            )
            self.texts.append(text)
            self._spawn(self._twilio(text) if carrier == "twilio" else self._telnyx(text))
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    async def _post_balanced(self, seq: int, post) -> httpx.Response | None:
        """One request through the 'load balancer': a refused connection goes to the next replica."""
        for attempt in range(len(self.ingest_urls)):
            url = self.ingest_urls[(seq + attempt) % len(self.ingest_urls)]
            try:
                return await post(url)
            except httpx.ConnectError:
                continue
            except httpx.HTTPError:
                return None  # sent, no answer: the carrier does not know whether it was taken
        return None

    async def _twilio(self, text: InboundText) -> None:
        form = inbound_sms_form(demo.TWILIO_ACCOUNT_SID, text.phone, demo.DEALERSHIP_NUMBER, text.body)
        text.carrier_id = form["MessageSid"]
        response = await self._post_balanced(
            text.seq, lambda url: post_inbound(self.client, url, demo.TWILIO_AUTH_TOKEN, form)
        )
        self._answered(text, response)

    async def _telnyx(self, text: InboundText) -> None:
        event = received_event(text.phone, demo.TELNYX_NUMBER, text.body)
        text.carrier_id = event["data"]["payload"]["id"]
        for attempt in range(1, 5):
            event["meta"]["attempt"] = attempt
            response = await self._post_balanced(
                text.seq + attempt, lambda url: post_event(self.client, url, demo.TELNYX_PRIVATE_KEY, event)
            )
            self._answered(text, response)
            if text.acked:
                return
            await asyncio.sleep(1.0)

    @staticmethod
    def _answered(text: InboundText, response: httpx.Response | None) -> None:
        text.status = response.status_code if response is not None else None
        if response is not None and 200 <= response.status_code < 300:
            text.acked_at = time.time()

    # --- staff replying ------------------------------------------------------------------------

    async def _login(self) -> str:
        for attempt in range(120):
            url = self.routing_urls[attempt % len(self.routing_urls)]
            with contextlib.suppress(httpx.HTTPError):
                response = await self.client.post(
                    f"{url}/api/v1/auth/login", json={"email": demo.ADMIN_EMAIL, "password": demo.PASSWORD}
                )
                if response.status_code == 200:
                    return response.json()["access_token"]
            await asyncio.sleep(0.5)
        raise RuntimeError("could not log in to routing")

    async def token(self) -> str:
        if self._token is None:
            self._token = await self._login()
        return self._token

    async def replies_out(self, rate: float, conversation_ids: list[str], stop: asyncio.Event) -> None:
        interval, next_at = 1.0 / rate, time.monotonic()
        while not stop.is_set():
            seq = len(self.replies)
            reply = StaffReply(
                seq,
                conversation_ids[seq % len(conversation_ids)],
                f"chaos {self.tag} reply {seq}",
                self.phase,
            )
            self.replies.append(reply)
            self._spawn(self._reply(reply))
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    async def _reply(self, reply: StaffReply, give_up_after: float = 90.0) -> None:
        """Retried with the same Idempotency-Key until routing answers (a staff client's retry)."""
        key = str(uuid.uuid4())
        deadline = time.monotonic() + give_up_after
        while time.monotonic() < deadline:
            url = self.routing_urls[(reply.seq + reply.attempts) % len(self.routing_urls)]
            reply.attempts += 1
            try:
                response = await self.client.post(
                    f"{url}/api/v1/conversations/{reply.conversation_id}/messages",
                    json={"body": reply.body},
                    headers={"authorization": f"Bearer {await self.token()}", "idempotency-key": key},
                )
            except httpx.HTTPError:
                await asyncio.sleep(0.5)
                continue
            reply.status = response.status_code
            if 200 <= response.status_code < 300:
                reply.accepted_at = time.time()
                return
            if response.status_code == 401:
                self._token = None
            elif response.status_code < 500 and response.status_code != 429:
                return  # refused for good: not accepted, nothing to check
            await asyncio.sleep(0.5)

    # --- what routing stored -------------------------------------------------------------------

    async def watch_stored(self, stop: asyncio.Event, every: float = 0.5) -> None:
        """Notes when each acknowledged text first shows up in routing (for the longest delay)."""
        connection = None
        while not stop.is_set():
            await asyncio.sleep(every)
            pending = {t.carrier_id: t for t in self.texts if t.acked and t.seen_at is None}
            if not pending:
                continue
            try:
                if connection is None or connection.is_closed():
                    connection = await asyncpg.connect(dsn(self.database_url), timeout=2)
                rows = await connection.fetch(
                    "SELECT carrier_message_id FROM routing.messages WHERE account_id = $1"
                    " AND carrier_message_id = ANY($2::text[])",
                    demo.ACCOUNT_ID,
                    list(pending),
                    timeout=5,
                )
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
                connection = None
                continue
            now = time.time()
            for row in rows:
                pending[row["carrier_message_id"]].seen_at = now
        if connection is not None and not connection.is_closed():
            await connection.close()
