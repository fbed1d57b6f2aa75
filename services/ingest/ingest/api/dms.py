"""The DMS integration API: integrators post events and read back the ones refused."""

import base64
import binascii
import json
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ingest.api.body import read_body
from ingest.api.unavailable import unavailable
from ingest.dms_repository import Integration, dms_rejections_page, integration_by_secret
from ingest.domain.dms_batch import BatchUnreadable
from ingest.usecases.dms import BatchOutcome, DmsDeps, accept_dms_events
from shared.http.errors import ERROR_RESPONSE_SCHEMA, ApiError
from shared.kafka.broker import PublishFailed

INTEGRATION_KEY_HEADER = "x-switchboard-integration-key"


class EventResult(BaseModel):
    index: int = Field(description="Position of the event in the request (0 for a single event).")
    event_id: str | None = Field(None, description="The event's own id, when it had one.")
    status: str = Field(description="`accepted` (on dms.events.v1) or `rejected`.")
    reason: str | None = Field(None, description="Why it was rejected.")
    errors: list[dict[str, Any]] = Field(default_factory=list, description="Field by field: loc, msg, type.")
    rejection_id: str | None = Field(None, description="Its id in GET /api/v1/dms/rejections.")


class BatchResult(BaseModel):
    accepted: int
    rejected: int
    results: list[EventResult]


class Rejection(BaseModel):
    rejection_id: UUID
    event_id: str | None
    reason: str
    errors: list[dict[str, Any]]
    payload: str = Field(description="The event exactly as it was received (JSON text).")
    received_at: datetime


class RejectionPage(BaseModel):
    items: list[Rejection]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next (older) page.")


ERRORS = {
    400: {
        **ERROR_RESPONSE_SCHEMA,
        "description": 'Not JSON, not an event nor {"events": [...]}, or too many',
    },
    401: {
        **ERROR_RESPONSE_SCHEMA,
        "description": "No integration secret, not one we know, revoked, or rotated and past its overlap",
    },
    413: {**ERROR_RESPONSE_SCHEMA, "description": "Body over the size limit"},
    415: {**ERROR_RESPONSE_SCHEMA, "description": "Not application/json"},
    422: {
        **ERROR_RESPONSE_SCHEMA,
        "description": "Every event was rejected (each is on dms.events.rejected.v1 and in the "
        "rejections API); `details` holds the per-event results",
    },
    503: {
        **ERROR_RESPONSE_SCHEMA,
        "description": "Kafka or the database unavailable (with Retry-After): nothing was stored,"
        " send the same request again",
    },
}


def _secret_of(request: Request) -> str | None:
    authorization = request.headers.get("authorization", "")
    scheme, _, credential = authorization.partition(" ")
    if scheme.lower() == "bearer" and credential.strip():
        return credential.strip()
    return request.headers.get(INTEGRATION_KEY_HEADER) or None


def integration_auth(deps: DmsDeps):
    async def authenticated(request: Request) -> Integration:
        secret = _secret_of(request)
        integration = (
            await integration_by_secret(deps.sessions, secret, deps.last_used_every) if secret else None
        )
        if integration is None:
            raise ApiError(401, "unauthorized", "a valid integration secret is required")
        return integration

    return authenticated


def _results(outcome: BatchOutcome) -> BatchResult:
    results = [
        EventResult(index=item.index, event_id=str(item.event.root.event_id), status="accepted")
        for item in outcome.accepted
    ]
    results += [
        EventResult(
            index=refused.index,
            event_id=refused.event_id,
            status="rejected",
            reason=refused.reason,
            errors=refused.errors,
            rejection_id=rejection_id,
        )
        for refused, rejection_id in outcome.refused
    ]
    results.sort(key=lambda result: result.index)
    return BatchResult(accepted=len(outcome.accepted), rejected=len(outcome.refused), results=results)


def _encode_cursor(rejection: Rejection) -> str:
    raw = json.dumps([rejection.received_at.isoformat(), str(rejection.rejection_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        at, row_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(at), UUID(row_id)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise ApiError(400, "invalid_cursor", "the cursor is not one this API returned") from exc


def dms_router(deps: DmsDeps, max_body_bytes: int) -> APIRouter:
    router = APIRouter(prefix="/api/v1/dms", tags=["DMS integrations"])
    Authenticated = Annotated[Integration, Depends(integration_auth(deps))]

    @router.post(
        "/events",
        summary="Send DMS events (one, or a batch)",
        description='The body is one event, or `{"events": [...]}` with up to '
        f"{deps.max_batch} events, each shaped as in docs/dms-events.schema.json (`account_id` may "
        "be left out: it is the integration's; another account's id is rejected). Authenticate with "
        "`Authorization: Bearer <secret>` or `X-Switchboard-Integration-Key: <secret>`.\n\n"
        "Answers **202** once every usable event is on `dms.events.v1`, with one result per event "
        "(like a 207 multi-status): `accepted`, or `rejected` with the reason and a `rejection_id`. "
        "When **every** event is rejected the answer is **422** with the same results in "
        "`error.details`. Rejected events are kept (topic `dms.events.rejected.v1` and "
        "GET /api/v1/dms/rejections); re-sending an accepted event changes nothing.",
        status_code=202,
        response_model=BatchResult,
        responses=ERRORS,
    )
    async def post_events(request: Request, integration: Authenticated) -> JSONResponse:
        body = await read_body(request, "application/json", max_body_bytes)
        try:
            outcome = await accept_dms_events(deps, integration, body)
        except BatchUnreadable as exc:
            raise ApiError(400, "invalid_body", str(exc)) from exc
        except PublishFailed:
            return unavailable("could not store the events; send them again later")
        result = _results(outcome)
        if not outcome.accepted:
            raise ApiError(
                422, "events_rejected", "every event was rejected", details=result.model_dump(mode="json")
            )
        return JSONResponse(result.model_dump(mode="json"), status_code=202)

    @router.get(
        "/rejections",
        summary="Events this integration sent that were rejected",
        description="Newest first, with the reason and the event exactly as received.",
        response_model=RejectionPage,
        responses={
            401: ERRORS[401],
            400: {**ERROR_RESPONSE_SCHEMA, "description": "Invalid cursor"},
            503: ERRORS[503],
        },
    )
    async def rejections(
        integration: Authenticated,
        limit: Annotated[int, Query(ge=1, le=200, description="Page size")] = 50,
        cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    ) -> RejectionPage:
        after = _decode_cursor(cursor) if cursor else None
        async with deps.sessions() as session:
            rows = await dms_rejections_page(session, integration, limit + 1, after)
        items = [
            Rejection(
                rejection_id=row.id,
                event_id=row.event_id,
                reason=row.reason,
                errors=row.errors,
                payload=row.payload,
                received_at=row.received_at,
            )
            for row in rows[:limit]
        ]
        next_cursor = _encode_cursor(items[-1]) if len(rows) > limit else None
        return RejectionPage(items=items, next_cursor=next_cursor)

    return router
