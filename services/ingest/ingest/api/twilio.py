"""Twilio's webhook endpoints: form posts signed with X-Twilio-Signature."""

from collections.abc import Awaitable, Callable, Mapping
from functools import lru_cache

from fastapi import APIRouter, Request, Response
from starlette.datastructures import URL

from ingest.api.body import parse_form, read_body
from ingest.api.request_only_route import RequestOnlyRoute
from ingest.api.unavailable import unavailable
from ingest.settings import IngestSettings
from ingest.usecases.common import Outcome, SignatureRejected, WebhookDeps, WebhookUnusable
from ingest.usecases.twilio import accept_twilio_inbound, accept_twilio_status
from shared.http.errors import ERROR_RESPONSE_SCHEMA, ApiError
from shared.kafka.broker import PublishFailed

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
FORM = "application/x-www-form-urlencoded"


class TwimlAnswer(Response):
    """The empty TwiML with the webhook's outcome, its headers built once per outcome instead of
    per webhook (~2 µs of Response.init_headers, issue 17). Each answer gets its own copy of the
    list: middlewares may add to the headers they are sent."""

    _HEADERS = {
        outcome: Response(
            EMPTY_TWIML, media_type="text/xml", headers={"x-switchboard-outcome": outcome.value}
        ).raw_headers
        for outcome in Outcome
    }
    _BODY = EMPTY_TWIML.encode()

    def __init__(self, outcome: Outcome) -> None:  # no super().__init__: nothing to render
        self.status_code = 200
        self.body = self._BODY
        self.background = None
        self.raw_headers = list(self._HEADERS[outcome])


Accept = Callable[[WebhookDeps, Mapping[str, str], list[str], str], Awaitable[Outcome]]

ERRORS = {
    400: {
        **ERROR_RESPONSE_SCHEMA,
        "description": "Authentic but unusable (recorded as rejected), or not UTF-8",
    },
    403: {**ERROR_RESPONSE_SCHEMA, "description": "Unknown AccountSid, or the signature is missing or wrong"},
    413: {**ERROR_RESPONSE_SCHEMA, "description": "Body over the size limit"},
    415: {**ERROR_RESPONSE_SCHEMA, "description": "Not application/x-www-form-urlencoded"},
    503: {
        **ERROR_RESPONSE_SCHEMA,
        "description": "Kafka or the database unavailable (with Retry-After): Twilio retries only"
        " with connection overrides; catch-up lists what it does not",
    },
}


@lru_cache(maxsize=256)
def _url_of(scheme: str, server: tuple[str, int] | None, path: str, query: bytes, host: bytes | None) -> str:
    # Starlette's own reconstruction from exactly the scope fields it reads; a webhook's URL is the
    # same for every post, and building it (urlsplit and all) was ~2 % of ingest's CPU (issue 17).
    headers = [(b"host", host)] if host is not None else []
    scope = {"scheme": scheme, "server": server, "path": path, "query_string": query, "headers": headers}
    return str(URL(scope=scope))


def _request_url(request: Request) -> str:
    scope = request.scope
    host = next((value for key, value in scope["headers"] if key == b"host"), None)
    server = scope.get("server")
    return _url_of(
        scope.get("scheme", "http"),
        tuple(server) if server is not None else None,
        scope["path"],
        scope.get("query_string", b""),
        host,
    )


def signed_urls(request: Request, settings: IngestSettings) -> list[str]:
    """The URLs Twilio may have signed: the public one first when we sit behind a proxy (the
    validator itself tries each with and without its port)."""
    ours = _request_url(request)
    if settings.public_base_url is None:
        return [ours]
    base = str(settings.public_base_url).rstrip("/")
    query = f"?{request.url.query}" if request.url.query else ""
    return [f"{base}{request.url.path}{query}", ours]


async def read_form(request: Request, settings: IngestSettings) -> dict[str, str]:
    body = await read_body(request, FORM, settings.max_webhook_bytes)
    try:
        return parse_form(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ApiError(400, "invalid_body", "body is not UTF-8 form data") from exc


def twilio_router(settings: IngestSettings, deps: WebhookDeps) -> APIRouter:
    router = APIRouter(prefix="/webhooks/twilio", tags=["carrier webhooks"], route_class=RequestOnlyRoute)

    async def handle(request: Request, accept: Accept) -> Response:
        form = await read_form(request, settings)
        signature = request.headers.get("x-twilio-signature", "")
        try:
            outcome = await accept(deps, form, signed_urls(request, settings), signature)
        except SignatureRejected as exc:
            raise ApiError(403, "invalid_signature", "the Twilio signature is missing or wrong") from exc
        except WebhookUnusable as exc:
            raise ApiError(400, "unusable_webhook", str(exc)) from exc
        except PublishFailed:
            return unavailable("could not store the webhook; retry later")
        return TwimlAnswer(outcome)

    @router.post(
        "/sms",
        summary="Twilio inbound SMS/MMS webhook",
        description="Every form field is kept (`raw`), media as attachments. Answers 200 (empty "
        "TwiML, `x-switchboard-outcome: accepted|duplicate`) once the message is safely in Kafka; "
        "the same MessageSid twice is one message.",
        response_class=Response,
        responses={200: {"content": {"text/xml": {}}, "description": "Accepted or duplicate"}, **ERRORS},
    )
    async def inbound_sms(request: Request) -> Response:
        return await handle(request, accept_twilio_inbound)

    @router.post(
        "/status",
        summary="Twilio message status callback",
        description="A delivery receipt for a message we sent (MessageSid, MessageStatus, ErrorCode, "
        "ErrorMessage), published with the plain error category beside Twilio's code. The same "
        "MessageSid and MessageStatus twice is one event.",
        response_class=Response,
        responses={200: {"content": {"text/xml": {}}, "description": "Accepted or duplicate"}, **ERRORS},
    )
    async def status_callback(request: Request) -> Response:
        return await handle(request, accept_twilio_status)

    return router
