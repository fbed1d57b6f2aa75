"""Status callbacks for the texts the simulator accepted: signed the way each carrier signs
them (Twilio's X-Twilio-Signature with the auth token the text was sent with; Telnyx's Ed25519),
posted after a delay, duplicated or out of order on demand."""

import asyncio
import contextlib
import json

import httpx
import structlog

from devtools.carrier_simulator.failures import Behaviour
from devtools.carrier_simulator.telnyx import signed_headers, status_event
from devtools.carrier_simulator.twilio import sign, twilio_status_form

log = structlog.get_logger(__name__)


def twilio_callbacks(
    account_sid: str, message_sid: str, from_number: str, to_number: str, behaviour: Behaviour
) -> list[dict[str, str]]:
    final = (
        twilio_status_form(
            account_sid,
            message_sid,
            from_number,
            to_number,
            "undelivered",
            behaviour.delivery_error.code,
            behaviour.delivery_error.message,
        )
        if behaviour.delivery_error
        else twilio_status_form(account_sid, message_sid, from_number, to_number, "delivered")
    )
    return [twilio_status_form(account_sid, message_sid, from_number, to_number, "sent"), final]


def telnyx_callbacks(message_id: str, from_number: str, to_number: str, behaviour: Behaviour) -> list[dict]:
    error = behaviour.delivery_error
    final = (
        status_event(
            message_id,
            from_number,
            to_number,
            "delivery_failed",
            [{"code": error.code, "title": error.message, "detail": error.message}],
        )
        if error
        else status_event(message_id, from_number, to_number, "delivered")
    )
    return [status_event(message_id, from_number, to_number, "sent"), final]


def arrange(callbacks: list, duplicate: bool, out_of_order: bool) -> list:
    ordered = list(reversed(callbacks)) if out_of_order else list(callbacks)
    return [c for c in ordered for _ in range(2)] if duplicate else ordered


class CallbackSender:
    """Posts callbacks in the background; a receiver that is down only costs a log line."""

    def __init__(self, timeout: float = 10.0) -> None:
        self._client = httpx.AsyncClient(timeout=timeout)
        self._tasks: set[asyncio.Task] = set()
        self.posted: list[dict] = []

    def schedule_twilio(self, url: str, auth_token: str, forms: list[dict[str, str]], delay: float) -> None:
        async def post(form: dict[str, str]) -> httpx.Response:
            return await self._client.post(
                url, data=form, headers={"X-Twilio-Signature": sign(auth_token, url, form)}
            )

        self._schedule([(form, post) for form in forms], url, delay)

    def schedule_telnyx(self, url: str, private_key: str, events: list[dict], delay: float) -> None:
        async def post(event: dict) -> httpx.Response:
            body = json.dumps(event, separators=(",", ":")).encode()
            return await self._client.post(url, content=body, headers=signed_headers(private_key, body))

        self._schedule([(event, post) for event in events], url, delay)

    def _schedule(self, items: list, url: str, delay: float) -> None:
        async def run() -> None:
            await asyncio.sleep(delay)
            for payload, post in items:
                try:
                    response = await post(payload)
                    self.posted.append({"url": url, "status": response.status_code})
                except httpx.HTTPError as exc:
                    log.warning("status callback failed", url=url, error=type(exc).__name__)

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._client.aclose()
