"""Saved replies: the account's reusable texts with placeholders. Any staff member reads them and
creates new ones; an agent changes or deletes only the ones they created, an admin any of them.
Another account's saved reply answers exactly like one that does not exist."""

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from routing.domain import templates
from routing.saved_replies import usecases
from routing.saved_replies.models import (
    DraftPreviewRequest,
    DraftPreviewView,
    PreviewRequest,
    PreviewView,
    SavedReplyCreate,
    SavedReplyUpdate,
    SavedReplyView,
    TemplateCatalog,
)
from shared.http.auth import Authenticated, Principal
from shared.http.errors import ERROR_RESPONSE_SCHEMA, ApiError


def _view(reply: usecases.SavedReply) -> SavedReplyView:
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
        if isinstance(exc, usecases.SavedReplyNotFound):
            return _not_found()
        if isinstance(exc, usecases.NotAllowed):
            return ApiError(403, "forbidden", str(exc))
        if isinstance(exc, templates.InvalidTemplate):
            return _invalid_template(exc)
        if isinstance(exc, usecases.SavedReplyNameTaken):
            return ApiError(409, "name_taken", str(exc), [{"loc": ["body", "name"]}])
        raise exc

    @router.get(
        "",
        response_model=list[SavedReplyView],
        summary="List the account's saved replies, by name",
    )
    async def list_saved_replies(caller: Staff) -> list[SavedReplyView]:
        async with sessions() as session:
            replies = await usecases.list_saved_replies(session, caller.account_id)
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

    @router.post(
        "/preview",
        response_model=DraftPreviewView,
        summary="Preview a saved reply before saving it",
        description="Checks a body exactly as saving would (422 `invalid_template` with every "
        "problem in `details.problems`) and renders it with your name as the sender, the "
        "dealership's name and number, `variables` and, when `customer_id` is given, that "
        "customer's names. A placeholder with no value (without `default`) shows as "
        "`[customer.first_name]` and is listed in `missing`. A customer of another account is 404.",
        responses={404: ERROR_RESPONSE_SCHEMA, 422: ERROR_RESPONSE_SCHEMA},
    )
    async def preview_draft(caller: Staff, body: DraftPreviewRequest) -> DraftPreviewView:
        async with sessions() as session:
            try:
                text, used, missing = await usecases.preview_draft(
                    session, caller.account_id, body.body, body.customer_id, caller.user_id, body.variables
                )
            except templates.InvalidTemplate as exc:
                raise _invalid_template(exc) from exc
            except usecases.CustomerNotFound as exc:
                raise ApiError(404, "not_found", str(exc)) from exc
        return DraftPreviewView(text=text, placeholders=used, missing=missing)

    @router.get(
        "/{saved_reply_id}",
        response_model=SavedReplyView,
        summary="One saved reply",
        responses={404: ERROR_RESPONSE_SCHEMA},
    )
    async def get_saved_reply(saved_reply_id: UUID, caller: Staff) -> SavedReplyView:
        async with sessions() as session:
            try:
                reply = await usecases.get_saved_reply(session, caller.account_id, saved_reply_id)
            except usecases.SavedReplyNotFound as exc:
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
                reply = await usecases.create_saved_reply(
                    session, caller.account_id, caller.user_id, body.name, body.body, _now()
                )
        except (templates.InvalidTemplate, usecases.SavedReplyNameTaken) as exc:
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
                reply = await usecases.update_saved_reply(
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
            usecases.SavedReplyNotFound,
            usecases.NotAllowed,
            templates.InvalidTemplate,
            usecases.SavedReplyNameTaken,
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
                await usecases.delete_saved_reply(
                    session, caller.account_id, saved_reply_id, caller.user_id, caller.is_admin
                )
        except (usecases.SavedReplyNotFound, usecases.NotAllowed) as exc:
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
                    customer_id, dealership_e164 = await usecases.conversation_customer(
                        session, caller.account_id, body.conversation_id
                    )
                assert customer_id is not None  # the request model demands one of the two
                text = await usecases.render_saved_reply(
                    session,
                    caller.account_id,
                    saved_reply_id,
                    customer_id,
                    caller.user_id,
                    body.variables,
                    dealership_e164=dealership_e164,
                )
            except usecases.SavedReplyNotFound as exc:
                raise _not_found() from exc
            except usecases.CustomerNotFound as exc:
                raise ApiError(404, "not_found", str(exc)) from exc
            except usecases.SavedReplyRenderError as exc:
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
