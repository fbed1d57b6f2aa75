"""Twilio's webhook endpoints: form posts signed with X-Twilio-Signature."""

from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response

from ingest.settings import IngestSettings
from ingest.usecases import (
    SignatureRejected,
    WebhookDeps,
    WebhookUnusable,
    accept_twilio_inbound,
)
from shared.http.errors import ApiError
from shared.kafka.broker import PublishFailed

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def public_url(request: Request, settings: IngestSettings) -> str:
    if settings.public_base_url is None:
        return str(request.url)
    base = str(settings.public_base_url).rstrip("/")
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{base}{request.url.path}{query}"


async def read_form(request: Request, settings: IngestSettings) -> dict[str, str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise ApiError(415, "unsupported_media_type", "expected application/x-www-form-urlencoded")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > settings.max_webhook_bytes:
        raise ApiError(413, "payload_too_large", f"body over {settings.max_webhook_bytes} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > settings.max_webhook_bytes:
            raise ApiError(413, "payload_too_large", f"body over {settings.max_webhook_bytes} bytes")
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
    except UnicodeDecodeError as exc:
        raise ApiError(400, "invalid_body", "body is not UTF-8 form data") from exc


def twilio_router(settings: IngestSettings, deps: WebhookDeps) -> APIRouter:
    router = APIRouter(prefix="/webhooks/twilio", tags=["carrier webhooks"])

    @router.post(
        "/sms",
        summary="Twilio inbound SMS/MMS webhook",
        description="Answers 200 (empty TwiML) once the message is safely in Kafka; 403 for a bad "
        "signature; 400 for an authentic but unusable post; 503 when Kafka is unavailable, so "
        "Twilio retries.",
        response_class=Response,
    )
    async def inbound_sms(request: Request) -> Response:
        form = await read_form(request, settings)
        signature = request.headers.get("x-twilio-signature", "")
        try:
            outcome = await accept_twilio_inbound(deps, form, public_url(request, settings), signature)
        except SignatureRejected as exc:
            raise ApiError(403, "invalid_signature", "the Twilio signature is missing or wrong") from exc
        except WebhookUnusable as exc:
            raise ApiError(400, "unusable_webhook", str(exc)) from exc
        except PublishFailed as exc:
            raise ApiError(503, "unavailable", "could not store the message; retry later") from exc
        return Response(
            EMPTY_TWIML,
            media_type="text/xml",
            headers={"x-switchboard-outcome": outcome.value},
        )

    return router
