"""Staff ask for a conversation as PDF and follow the job; the e-mailed link downloads it.

Jobs are scoped to the caller's account and visible to their requester and the account's
admins; anything else is answered exactly like a job that does not exist (404)."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Literal
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.background import BackgroundTask

from exporter import repository
from exporter.domain.jobs import ExportJob
from exporter.links import DownloadLinks, LinkExpired, LinkInvalid
from exporter.storage import PdfStore, StorageUnavailable
from exporter.usecases.events import JobEvents
from exporter.usecases.request_export import request_export
from shared.http.auth import Authenticated, Principal
from shared.http.errors import ERROR_RESPONSE_SCHEMA, ApiError


class ExportRequest(BaseModel):
    """The whole conversation, or the part between `since` and `until` (inclusive, either may
    be left out)."""

    model_config = ConfigDict(extra="forbid")

    conversation_id: UUID
    since: AwareDatetime | None = Field(None, description="First instant to include, with its offset")
    until: AwareDatetime | None = Field(None, description="Last instant to include, with its offset")
    time_zone: str | None = Field(
        None,
        description="IANA zone for the times shown when the account's own zone cannot be read "
        "(e.g. America/Toronto); UTC otherwise",
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError("not a known IANA time zone (e.g. America/Toronto)") from exc
        return value

    @model_validator(mode="after")
    def _ordered(self) -> "ExportRequest":
        if self.since and self.until and self.since > self.until:
            raise ValueError("since must not be after until")
        return self


class ExportJobView(BaseModel):
    job_id: UUID
    status: Literal["queued", "running", "done", "failed", "expired"] = Field(
        description="`expired`: the link expired and the PDF has been deleted; ask for a new export"
    )
    conversation_id: UUID
    since: datetime | None
    until: datetime | None
    attempts: int = Field(description="Render attempts so far")
    pages: int | None = Field(description="Pages of the PDF, once done")
    download_url: str | None = Field(description="Signed link to the PDF, once done and until it expires")
    expires_at: datetime | None = Field(description="When the download link stops working")
    failed_reason: str | None = Field(description="Why the export failed, when it did")
    created_at: datetime
    finished_at: datetime | None


# Only declared so OpenAPI shows the bearer scheme on staff routes; `Authenticated` reads the header.
_BEARER = HTTPBearer(auto_error=False, description="A staff JWT from routing's `POST /api/v1/auth/login`")

AUTH_ERRORS = {
    401: {**ERROR_RESPONSE_SCHEMA, "description": "No token, an expired one, or a deactivated user"},
    403: {**ERROR_RESPONSE_SCHEMA, "description": "Not a staff token"},
    503: {**ERROR_RESPONSE_SCHEMA, "description": "`auth_unavailable`: routing cannot confirm the user"},
}

LINK_ERRORS = {
    403: {**ERROR_RESPONSE_SCHEMA, "description": "The link was altered or is for another export"},
    404: ERROR_RESPONSE_SCHEMA,
    410: {**ERROR_RESPONSE_SCHEMA, "description": "The link has expired"},
    503: {**ERROR_RESPONSE_SCHEMA, "description": "`storage_unavailable`: the PDF cannot be read now"},
}


def exports_router(
    sessions: async_sessionmaker[AsyncSession],
    auth: Authenticated,  # in the service: CurrentStaffAuthenticated (the user's current role)
    events: JobEvents,
    links: DownloadLinks,
    storage: PdfStore,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> APIRouter:
    router = APIRouter(prefix="/api/v1/exports", tags=["exports"])

    async def staff(
        principal: Annotated[Principal, Depends(auth)],
        _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)] = None,
    ) -> Principal:
        if principal.role not in ("admin", "agent"):
            raise ApiError(403, "forbidden", "staff only")
        return principal

    Staff = Annotated[Principal, Depends(staff)]

    def view(job: ExportJob) -> ExportJobView:
        link_alive = job.expires_at is not None and clock() < job.expires_at
        return ExportJobView(
            job_id=job.id,
            status=job.status,
            conversation_id=job.conversation_id,
            since=job.since,
            until=job.until,
            attempts=job.attempts,
            pages=job.pages,
            download_url=events.download_url(job) if link_alive else None,
            expires_at=job.expires_at,
            failed_reason=job.failed_reason,
            created_at=job.created_at,
            finished_at=job.finished_at,
        )

    @router.post(
        "",
        status_code=202,
        response_model=ExportJobView,
        summary="Export a conversation as PDF",
        description="Accepted at once: the PDF is rendered in the background and its link e-mailed "
        "to you (`export.completed.v1`). Asking again for the same conversation and range while "
        "that export is queued or running answers the same job. Archived conversations can be "
        "exported too. A conversation that is not one of your account's makes the job fail.",
        responses={**AUTH_ERRORS, 422: ERROR_RESPONSE_SCHEMA},
    )
    async def create_export(body: ExportRequest, caller: Staff) -> ExportJobView:
        job = await request_export(
            sessions,
            events,
            account_id=caller.account_id,
            user_id=caller.user_id,
            conversation_id=body.conversation_id,
            since=body.since,
            until=body.until,
            time_zone=body.time_zone,
        )
        return view(job)

    @router.get(
        "/{job_id}",
        response_model=ExportJobView,
        summary="An export's status",
        description="For its requester and the account's admins.",
        responses={**AUTH_ERRORS, 404: ERROR_RESPONSE_SCHEMA},
    )
    async def get_export(job_id: UUID, caller: Staff) -> ExportJobView:
        async with sessions() as session:
            job = await repository.job_of_account(session, caller.account_id, job_id)
        if job is None or not job.visible_to(caller.user_id, caller.is_admin):
            raise ApiError(404, "not_found", "export not found")
        return view(job)

    @router.get(
        "/{job_id}/download",
        response_class=StreamingResponse,
        summary="Download an exported PDF with its signed link",
        description="No login: the signed `token` of the e-mailed link is the permission, for this "
        "export only, until it expires.",
        responses={200: {"content": {"application/pdf": {}}, "description": "The PDF"}, **LINK_ERRORS},
    )
    async def download_export(
        job_id: UUID, token: str = Query(..., max_length=500, description="The link's signature")
    ) -> StreamingResponse:
        try:
            links.check(token, job_id, clock())
        except LinkInvalid as exc:
            raise ApiError(403, "invalid_link", str(exc)) from exc
        except LinkExpired as exc:
            raise ApiError(410, "link_expired", str(exc)) from exc
        async with sessions() as session:
            # The verified link is the permission and names the job; it carries no account.
            job = await repository.job_by_id(session, job_id)
        if job is not None and job.status == "expired":
            raise ApiError(410, "link_expired", "this export has expired; ask for a new export")
        try:
            stored = await storage.open(job.file_key) if job and job.file_key else None
        except StorageUnavailable as exc:
            raise ApiError(503, "storage_unavailable", "the PDF cannot be read now; try again") from exc
        if stored is None:
            raise ApiError(404, "not_found", "export not found")

        async def body():
            try:
                async for chunk in stored.chunks:
                    yield chunk
            finally:
                await stored.close()

        filename = f"conversation-{job.conversation_id}.pdf"
        return StreamingResponse(
            body(),
            media_type="application/pdf",
            headers={
                "content-length": str(stored.size),
                "content-disposition": f'attachment; filename="{filename}"',
                "cache-control": "private, no-store",
            },
            # Also releases the file or connection when the body was never started.
            background=BackgroundTask(stored.close),
        )

    return router
