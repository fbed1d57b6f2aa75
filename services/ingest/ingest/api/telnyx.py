"""Telnyx's messaging webhook endpoint: v2 JSON events signed with Ed25519."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ingest.api.body import read_body
from ingest.api.unavailable import unavailable
from ingest.domain.telnyx import MalformedWebhook
from ingest.settings import IngestSettings
from ingest.usecases.common import SignatureRejected, WebhookDeps, WebhookUnusable
from ingest.usecases.telnyx import UnsupportedEvent, accept_telnyx
from shared.http.errors import ERROR_RESPONSE_SCHEMA, ApiError
from shared.kafka.broker import PublishFailed


class WebhookAccepted(BaseModel):
    outcome: str = Field(description="`accepted`, or `duplicate` for a retry of an event already taken")


def telnyx_router(settings: IngestSettings, deps: WebhookDeps) -> APIRouter:
    router = APIRouter(prefix="/webhooks", tags=["carrier webhooks"])

    @router.post(
        "/telnyx",
        summary="Telnyx messaging webhook (message.received, message.sent, message.finalized)",
        description="Verified with the account's Ed25519 public key over `{telnyx-timestamp}|{body}`; "
        "the account is the one that owns the dealership number (`to[0]` for received, `from` for "
        "sent / finalized). A received message becomes `carrier.inbound.v1`, a sent or finalized "
        "one `carrier.status.v1` with the plain error category beside Telnyx's code.",
        response_model=WebhookAccepted,
        responses={
            400: {
                **ERROR_RESPONSE_SCHEMA,
                "description": "Invalid JSON, missing fields, or authentic but "
                "unusable (then recorded as rejected)",
            },
            403: {
                **ERROR_RESPONSE_SCHEMA,
                "description": "Signature missing or wrong, timestamp too old, or a number no account "
                "receives on (not told apart, so nobody can probe which numbers exist)",
            },
            413: {**ERROR_RESPONSE_SCHEMA, "description": "Body over the size limit"},
            415: {**ERROR_RESPONSE_SCHEMA, "description": "Not application/json"},
            422: {**ERROR_RESPONSE_SCHEMA, "description": "An event type other than messaging's"},
            503: {
                **ERROR_RESPONSE_SCHEMA,
                "description": "Kafka or the database unavailable (with Retry-After): Telnyx retries;"
                " what it gives up on, catch-up lists later",
            },
        },
    )
    async def telnyx_webhook(request: Request) -> WebhookAccepted | JSONResponse:
        body = await read_body(request, "application/json", settings.max_webhook_bytes)
        timestamp = request.headers.get("telnyx-timestamp", "")
        signature = request.headers.get("telnyx-signature-ed25519", "")
        try:
            outcome = await accept_telnyx(deps, body, timestamp, signature)
        except MalformedWebhook as exc:
            raise ApiError(400, "invalid_body", str(exc)) from exc
        except UnsupportedEvent as exc:
            raise ApiError(422, "unsupported_event", f"event type {exc} is not handled here") from exc
        except SignatureRejected as exc:
            raise ApiError(
                403, "invalid_signature", "the Telnyx signature is missing, wrong or too old"
            ) from exc
        except WebhookUnusable as exc:
            raise ApiError(400, "unusable_webhook", str(exc)) from exc
        except PublishFailed:
            return unavailable("could not store the webhook; retry later")
        return WebhookAccepted(outcome=outcome.value)

    return router
