"""Customers texting the dealership, as each carrier delivers it to ingest:
- POST /simulate/sms: a Twilio inbound SMS webhook, posted ONCE. Twilio does not retry a failed
  SMS webhook (no connection overrides on the URL, no fallback URL): if ingest is down, only
  Twilio's message list has the text.
- POST /simulate/telnyx: a Telnyx `message.received` webhook; when ingest does not answer 2xx,
  Telnyx retries three times within seconds (`telnyx_retry_delays`), then gives up.
Either way the text is kept first, as the carrier keeps it, and listed by list_api.py. The answer
says what ingest answered to the first attempt (None: no answer)."""

import asyncio
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import structlog
from fastapi import APIRouter
from pydantic import BaseModel, Field

from devtools import demo
from devtools.carrier_simulator import store
from devtools.carrier_simulator.state import SimulatorState
from devtools.carrier_simulator.telnyx import post_event, received_event
from devtools.carrier_simulator.twilio import inbound_sms_form, post_inbound

log = structlog.get_logger(__name__)
# Telnyx's retries of a webhook ingest did not take: three more attempts, seconds apart.
TELNYX_RETRY_DELAYS = (1.0, 1.0, 1.0)


class SimulatedSms(BaseModel):
    model_config = {"populate_by_name": True}

    body: str
    from_: str = Field("+15145551234", alias="from")
    to: str = demo.DEALERSHIP_NUMBER
    account_sid: str = demo.TWILIO_ACCOUNT_SID
    auth_token: str = demo.TWILIO_AUTH_TOKEN
    media: list[tuple[str, str]] = Field(default_factory=list, description="(url, content type) pairs")


class SimulatedTelnyxText(BaseModel):
    model_config = {"populate_by_name": True}

    body: str
    from_: str = Field("+15145551234", alias="from")
    to: str = demo.TELNYX_NUMBER
    media: list[tuple[str, str]] = Field(default_factory=list, description="(url, content type) pairs")
    private_key: str = Field(
        demo.TELNYX_PRIVATE_KEY, description="Base64 Ed25519 key the webhook is signed with"
    )


def _twilio_record(account_sid: str, form: dict[str, str], media: list[tuple[str, str]]) -> dict:
    now = format_datetime(datetime.now(UTC), usegmt=True)
    sid = form["MessageSid"]
    uri = f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}"
    message = {
        "account_sid": account_sid,
        "api_version": "2010-04-01",
        "body": form["Body"],
        "date_created": now,
        "date_sent": now,
        "date_updated": now,
        "direction": "inbound",
        "error_code": None,
        "error_message": None,
        "from": form["From"],
        "messaging_service_sid": None,
        "num_media": str(len(media)),
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": "received",
        "subresource_uris": {"media": f"{uri}/Media.json"},
        "to": form["To"],
        "uri": f"{uri}.json",
        "_media": list(media),
    }
    return store.received(message)


def inbound_router(ingest_url: str, state: SimulatorState) -> APIRouter:
    router = APIRouter(tags=["simulate inbound"])
    tasks: set[asyncio.Task] = set()

    @router.post("/simulate/sms", summary="A customer texts a Twilio number: one webhook, never retried")
    async def simulate_sms(sms: SimulatedSms) -> dict:
        form = inbound_sms_form(sms.account_sid, sms.from_, sms.to, sms.body, media=sms.media)
        state.twilio_messages.setdefault(sms.account_sid, []).append(
            _twilio_record(sms.account_sid, form, sms.media)
        )
        status = None
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                status = (await post_inbound(client, ingest_url, sms.auth_token, form)).status_code
        except httpx.HTTPError as exc:
            log.info("twilio inbound webhook failed; not retried", error=type(exc).__name__)
        return {"message_sid": form["MessageSid"], "ingest_status": status}

    @router.post("/simulate/telnyx", summary="A customer texts a Telnyx number: retried three times")
    async def simulate_telnyx(text: SimulatedTelnyxText) -> dict:
        event = received_event(text.from_, text.to, text.body, media=text.media)
        payload = event["data"]["payload"]
        state.telnyx_messages[payload["id"]] = store.received(dict(payload))
        status = await _attempt(text.private_key, event, 1)
        if status is None or not 200 <= status < 300:
            task = asyncio.create_task(_retry(text.private_key, event))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        return {"message_id": payload["id"], "ingest_status": status}

    async def _attempt(private_key: str, event: dict, attempt: int) -> int | None:
        event["meta"]["attempt"] = attempt
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                return (await post_event(client, ingest_url, private_key, event)).status_code
        except httpx.HTTPError as exc:
            log.info("telnyx inbound webhook failed", attempt=attempt, error=type(exc).__name__)
            return None

    async def _retry(private_key: str, event: dict) -> None:
        for attempt, delay in enumerate(TELNYX_RETRY_DELAYS, start=2):
            await asyncio.sleep(delay)
            status = await _attempt(private_key, event, attempt)
            if status is not None and 200 <= status < 300:
                return
        log.info("telnyx gave up on an inbound webhook", message_id=event["data"]["payload"]["id"])

    return router
