"""Saved replies: the account's reusable texts with placeholders. Any staff member reads them and
creates new ones; an agent changes or deletes only the ones they created, an admin any of them.
Another account's saved reply answers exactly like one that does not exist."""

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from routing.domain import templates
from routing.usecases import saved_replies as usecase
from shared.http.auth import Authenticated, Principal
from shared.http.errors import ERROR_RESPONSE_SCHEMA, ApiError

NAME_MAX_LENGTH = 100
VARIABLE_MAX_LENGTH = 500

_BODY_DESCRIPTION = (
    "The text, with placeholders such as `{{ customer.first_name }}`, optionally through a filter: "
    "`{{ customer.first_name | default('there') }}`, `{{ dealership.name | upper }}`. "
    f"Placeholders: {', '.join(templates.PLACEHOLDERS)}. Filters: {', '.join(templates.SAFE_FILTERS)}. "
    "Nothing else (tags, calls, other attributes) is accepted."
)


class SavedReplyView(BaseModel):
    id: UUID
    name: str
    body: str
    placeholders: list[str] = Field(description="The placeholders the body uses, in order of first use")
    created_by_user_id: UUID | None = Field(description="Who created it (null once that user is gone)")
    created_at: datetime
    updated_at: datetime


class SavedReplyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=NAME_MAX_LENGTH, description="Unique in the account")
    body: str = Field(min_length=1, max_length=templates.MAX_BODY_LENGTH, description=_BODY_DESCRIPTION)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("the name cannot be blank")
        return value


class SavedReplyUpdate(BaseModel):
    """Only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=NAME_MAX_LENGTH)
    body: str | None = Field(
        default=None, min_length=1, max_length=templates.MAX_BODY_LENGTH, description=_BODY_DESCRIPTION
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None:
            value = value.strip()
            if not value:
                raise ValueError("the name cannot be blank")
        return value


class PreviewRequest(BaseModel):
    """For whom to render: a conversation (its customer and dealership number) or a customer."""

    model_config = ConfigDict(extra="forbid")

    conversation_id: UUID | None = None
    customer_id: UUID | None = None
    variables: dict[str, Annotated[str, Field(max_length=VARIABLE_MAX_LENGTH)]] = Field(
        default_factory=dict,
        description="Values for placeholders the database does not know, e.g. "
        '`{"appointment.date": "May 3"}`; a value given here wins over the stored one',
        examples=[{"appointment.date": "May 3", "appointment.time": "9:30 AM"}],
    )

    @model_validator(mode="after")
    def _one_target(self) -> "PreviewRequest":
        if (self.conversation_id is None) == (self.customer_id is None):
            raise ValueError("give exactly one of conversation_id and customer_id")
        unknown = sorted(set(self.variables) - set(templates.PLACEHOLDERS))
        if unknown:
            raise ValueError(f"unknown variables: {', '.join(unknown)}")
        return self


class PreviewView(BaseModel):
    text: str = Field(description="The text exactly as it would be sent")


class TemplateCatalog(BaseModel):
    placeholders: list[str] = Field(description="Every placeholder a body may use")
    filters: list[str] = Field(description="Every filter a placeholder may go through")
    max_body_length: int


def _view(reply: usecase.SavedReply) -> SavedReplyView:
    return SavedReplyView(**reply.__dict__)


def _invalid_template(exc: templates.InvalidTemplate) -> ApiError:
    return ApiError(
        422,
        "invalid_template",
        f"the saved reply cannot be used: {exc}",
        {
            "problems": [problem.as_dict() for problem in exc.problems],
            "allowed_placeholders": list(templates.PLACEHOLDERS),
            "allowed_filters": list(templates.SAFE_FILTERS),
        },
    )


def _not_found() -> ApiError:
    return ApiError(404, "not_found", "saved reply not found")


def _now() -> datetime:
    return datetime.now(UTC)


def saved_replies_router(sessions: async_sessionmaker[AsyncSession], auth: Authenticated) -> APIRouter:
    router = APIRouter(prefix="/api/v1/saved-replies", tags=["saved replies"])

    async def staff(principal: Annotated[Principal, Depends(auth)]) -> Principal:
        if principal.role not in ("admin", "agent"):
            raise ApiError(403, "forbidden", "staff only")
        return principal

    Staff = Annotated[Principal, Depends(staff)]

    def _write_errors(exc: Exception) -> ApiError:
        if isinstance(exc, usecase.SavedReplyNotFound):
            return _not_found()
        if isinstance(exc, usecase.NotAllowed):
            return ApiError(403, "forbidden", str(exc))
        if isinstance(exc, templates.InvalidTemplate):
            return _invalid_template(exc)
        if isinstance(exc, usecase.SavedReplyNameTaken):
            return ApiError(409, "name_taken", str(exc), [{"loc": ["body", "name"]}])
        raise exc

    @router.get(
        "",
        response_model=list[SavedReplyView],
        summary="List the account's saved replies, by name",
    )
    async def list_saved_replies(caller: Staff) -> list[SavedReplyView]:
        async with sessions() as session:
            replies = await usecase.list_saved_replies(session, caller.account_id)
        return [_view(reply) for reply in replies]

    @router.get(
        "/placeholders",
        response_model=TemplateCatalog,
        summary="What a saved reply's body may use",
    )
    async def template_catalog(caller: Staff) -> TemplateCatalog:
        return TemplateCatalog(
            placeholders=list(templates.PLACEHOLDERS),
            filters=list(templates.SAFE_FILTERS),
            max_body_length=templates.MAX_BODY_LENGTH,
        )

    @router.get(
        "/{saved_reply_id}",
        response_model=SavedReplyView,
        summary="One saved reply",
        responses={404: ERROR_RESPONSE_SCHEMA},
    )
    async def get_saved_reply(saved_reply_id: UUID, caller: Staff) -> SavedReplyView:
        async with sessions() as session:
            try:
                reply = await usecase.get_saved_reply(session, caller.account_id, saved_reply_id)
            except usecase.SavedReplyNotFound as exc:
                raise _not_found() from exc
        return _view(reply)

    @router.post(
        "",
        response_model=SavedReplyView,
        status_code=201,
        summary="Create a saved reply",
        description="The body is checked before it is saved: an unknown placeholder, a syntax error or "
        "anything the sandbox refuses answers 422 `invalid_template` with every problem in "
        "`details.problems`. A name already used in the account answers 409 `name_taken`.",
        responses={409: ERROR_RESPONSE_SCHEMA, 422: ERROR_RESPONSE_SCHEMA},
    )
    async def create_saved_reply(caller: Staff, body: SavedReplyCreate) -> SavedReplyView:
        try:
            async with sessions.begin() as session:
                reply = await usecase.create_saved_reply(
                    session, caller.account_id, caller.user_id, body.name, body.body, _now()
                )
        except (templates.InvalidTemplate, usecase.SavedReplyNameTaken) as exc:
            raise _write_errors(exc) from exc
        return _view(reply)

    @router.patch(
        "/{saved_reply_id}",
        response_model=SavedReplyView,
        summary="Rename a saved reply or change its text",
        description="Admins change any saved reply; agents only those they created (403 otherwise). "
        "The body is checked as on creation.",
        responses={
            403: ERROR_RESPONSE_SCHEMA,
            404: ERROR_RESPONSE_SCHEMA,
            409: ERROR_RESPONSE_SCHEMA,
            422: ERROR_RESPONSE_SCHEMA,
        },
    )
    async def update_saved_reply(
        saved_reply_id: UUID, caller: Staff, body: SavedReplyUpdate
    ) -> SavedReplyView:
        try:
            async with sessions.begin() as session:
                reply = await usecase.update_saved_reply(
                    session,
                    caller.account_id,
                    saved_reply_id,
                    caller.user_id,
                    caller.is_admin,
                    _now(),
                    name=body.name,
                    body=body.body,
                )
        except (
            usecase.SavedReplyNotFound,
            usecase.NotAllowed,
            templates.InvalidTemplate,
            usecase.SavedReplyNameTaken,
        ) as exc:
            raise _write_errors(exc) from exc
        return _view(reply)

    @router.delete(
        "/{saved_reply_id}",
        status_code=204,
        response_class=Response,
        summary="Delete a saved reply",
        description="Admins delete any saved reply; agents only those they created. Messages already "
        "sent with it keep their text.",
        responses={403: ERROR_RESPONSE_SCHEMA, 404: ERROR_RESPONSE_SCHEMA},
    )
    async def delete_saved_reply(saved_reply_id: UUID, caller: Staff) -> Response:
        try:
            async with sessions.begin() as session:
                await usecase.delete_saved_reply(
                    session, caller.account_id, saved_reply_id, caller.user_id, caller.is_admin
                )
        except (usecase.SavedReplyNotFound, usecase.NotAllowed) as exc:
            raise _write_errors(exc) from exc
        return Response(status_code=204)

    @router.post(
        "/{saved_reply_id}/preview",
        response_model=PreviewView,
        summary="Render a saved reply for a conversation or customer",
        description="Fills the placeholders with the customer's names, your name as the sender, the "
        "dealership's name and number (the conversation's number when a conversation is given) "
        "and `variables`. When a placeholder used without `default` has no value, answers 422 "
        "`template_missing_values` listing every one in `details.missing`: a saved reply is never "
        "half-filled. A conversation or customer of another account answers 404.",
        responses={404: ERROR_RESPONSE_SCHEMA, 422: ERROR_RESPONSE_SCHEMA},
    )
    async def preview_saved_reply(saved_reply_id: UUID, caller: Staff, body: PreviewRequest) -> PreviewView:
        async with sessions() as session:
            try:
                dealership_e164 = None
                customer_id = body.customer_id
                if body.conversation_id is not None:
                    customer_id, dealership_e164 = await usecase.conversation_customer(
                        session, caller.account_id, body.conversation_id
                    )
                assert customer_id is not None  # the request model demands one of the two
                text = await usecase.render_saved_reply(
                    session,
                    caller.account_id,
                    saved_reply_id,
                    customer_id,
                    caller.user_id,
                    body.variables,
                    dealership_e164=dealership_e164,
                )
            except usecase.SavedReplyNotFound as exc:
                raise _not_found() from exc
            except usecase.CustomerNotFound as exc:
                raise ApiError(404, "not_found", str(exc)) from exc
            except usecase.SavedReplyRenderError as exc:
                raise ApiError(
                    422,
                    "template_missing_values",
                    f"no value for {', '.join(exc.missing)}",
                    {"missing": exc.missing},
                ) from exc
            except templates.InvalidTemplate as exc:
                raise _invalid_template(exc) from exc
        return PreviewView(text=text)

    return router
