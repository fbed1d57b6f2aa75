"""The simulator's inbound side for Telnyx: POST /simulate/telnyx makes a customer text the
dealership's Telnyx number, as a correctly signed `message.received` webhook to ingest."""

import httpx
from fastapi import APIRouter
from pydantic import BaseModel, Field

from devtools import demo
from devtools.carrier_simulator.telnyx import post_event, received_event


class SimulatedTelnyxText(BaseModel):
    model_config = {"populate_by_name": True}

    body: str
    from_: str = Field("+15145551234", alias="from")
    to: str = demo.TELNYX_NUMBER
    media: list[tuple[str, str]] = Field(default_factory=list, description="(url, content type) pairs")
    private_key: str = Field(
        demo.TELNYX_PRIVATE_KEY, description="Base64 Ed25519 key the webhook is signed with"
    )


def inbound_router(ingest_url: str) -> APIRouter:
    router = APIRouter(tags=["simulate inbound"])

    @router.post("/simulate/telnyx", summary="Send a signed Telnyx message.received webhook to ingest")
    async def simulate_telnyx(text: SimulatedTelnyxText) -> dict:
        event = received_event(text.from_, text.to, text.body, media=text.media)
        async with httpx.AsyncClient(timeout=10) as client:
            response = await post_event(client, ingest_url, text.private_key, event)
        return {"message_id": event["data"]["payload"]["id"], "ingest_status": response.status_code}

    return router
