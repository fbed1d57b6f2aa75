"""Customers: profiles, typed phone numbers in E.164, internal profile notes. Any staff member of
the account may read and change them; an id of another account is answered exactly like an id
that does not exist (404)."""

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from routing.cursors import InvalidCursor
from routing.customers import queries, usecases
from routing.customers.models import (
    CustomerCreate,
    CustomerDetail,
    CustomerPage,
    CustomerPatch,
    CustomerSummary,
    NoteCreate,
    NotePage,
    NoteView,
    PhoneIn,
    PhoneKindPatch,
    PhoneView,
)
from routing.customers.usecases import CustomerNotFound, NewPhone, PhoneNotFound, PhoneTaken, Profile
from routing.domain.phones import InvalidPhoneNumber, phone_kind, to_e164
from routing.settings import RoutingSettings
from routing.staff_auth import role_guard
from shared.http.auth import Authenticated, Principal
from shared.http.errors import ERROR_RESPONSE_SCHEMA, ApiError

# --- helpers ----------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _customer_not_found() -> ApiError:
    return ApiError(404, "not_found", "customer not found")


def _phone_not_found() -> ApiError:
    return ApiError(404, "not_found", "phone number not found")


def _parse_phone(phone: PhoneIn, region: str, loc: list) -> NewPhone:
    try:
        e164 = to_e164(phone.number, region)
    except InvalidPhoneNumber as exc:
        raise ApiError(
            422,
            "invalid_phone_number",
            str(exc),
            [{"loc": [*loc, "number"], "msg": str(exc), "type": "phone_number"}],
        ) from exc
    return NewPhone(e164, phone.kind or phone_kind(e164))


def _phone_taken(exc: PhoneTaken, loc: list) -> ApiError:
    return ApiError(
        409,
        "phone_taken",
        f"{exc.e164} already belongs to a customer of this account",
        {"customer_id": str(exc.customer_id) if exc.customer_id else None, "e164": exc.e164, "loc": loc},
    )


AUTH_ERRORS: dict[int | str, dict] = {
    401: {**ERROR_RESPONSE_SCHEMA, "description": "No valid token, or its user was deactivated"},
    403: {**ERROR_RESPONSE_SCHEMA, "description": "Not a staff token (admin or agent)"},
}
NOT_FOUND = {404: ERROR_RESPONSE_SCHEMA}
NOT_FOUND_OR_INVALID = {404: ERROR_RESPONSE_SCHEMA, 422: ERROR_RESPONSE_SCHEMA}
PHONE_TAKEN = {
    409: {
        "description": "`phone_taken`: the number belongs to a customer of the account; "
        "`details.customer_id` says which",
        "content": {
            "application/json": {
                "example": {
                    "error": {
                        "code": "phone_taken",
                        "message": "+15145550100 already belongs to a customer of this account",
                        "details": {
                            "customer_id": "4f1c2a8e-1b1d-4a59-9a8e-0c3c0b1f9a11",
                            "e164": "+15145550100",
                            "loc": ["body", "phones", 0, "number"],
                        },
                    }
                }
            }
        },
    }
}


def customers_router(
    settings: RoutingSettings, sessions: async_sessionmaker[AsyncSession], auth: Authenticated
) -> APIRouter:
    router = APIRouter(prefix="/api/v1/customers", tags=["customers"], responses=AUTH_ERRORS)
    region = settings.default_phone_region
    Staff = Annotated[Principal, Depends(role_guard(auth, "admin", "agent"))]

    async def detail(account_id: UUID, customer_id: UUID) -> CustomerDetail:
        async with sessions() as session:
            found = await queries.customer_detail(session, account_id, customer_id)
        if found is None:
            raise _customer_not_found()
        return CustomerDetail(**found)

    async def phone_view(account_id: UUID, customer_id: UUID, phone_id: UUID) -> PhoneView:
        profile = await detail(account_id, customer_id)
        return next(p for p in profile.phones if p.id == phone_id)

    @router.post(
        "",
        status_code=201,
        response_model=CustomerDetail,
        summary="Create a customer",
        description="Numbers in any human format are stored in E.164, each typed mobile, landline or "
        "unknown. A number can belong to one customer of the account only: one held by another "
        "customer is refused with 409 `phone_taken` and nothing is created. An unreadable number is "
        "422 `invalid_phone_number` with its location.",
        responses={**PHONE_TAKEN, 422: ERROR_RESPONSE_SCHEMA},
    )
    async def create_customer(caller: Staff, body: CustomerCreate) -> CustomerDetail:
        phones: list[NewPhone] = []
        for index, raw in enumerate(body.phones):
            loc = ["body", "phones", index]
            phone = _parse_phone(raw, region, loc)
            if any(p.e164 == phone.e164 for p in phones):
                raise ApiError(
                    422,
                    "duplicate_phone_number",
                    f"{phone.e164} is listed twice",
                    [{"loc": [*loc, "number"], "msg": "listed twice", "type": "duplicate"}],
                )
            phones.append(phone)
        try:
            async with sessions.begin() as session:
                customer_id = await usecases.create_customer(
                    session,
                    caller.account_id,
                    Profile(body.first_name, body.last_name, body.email),
                    phones,
                    _now(),
                )
        except PhoneTaken as exc:
            raise _phone_taken(exc, ["body", "phones", exc.index, "number"]) from exc
        return await detail(caller.account_id, customer_id)

    @router.get(
        "",
        response_model=CustomerPage,
        summary="Search customers",
        description="Customers in name order (last name, first name; unnamed customers last). `q` "
        "with letters matches names: every word must start the first or the last name, any case "
        '("jo trem" finds Jo Tremblay). `q` without letters matches phone numbers by their digits, '
        'in any format ("514-555", "(514) 555-0100", "+33 6 12 34 56 78").',
        responses={422: ERROR_RESPONSE_SCHEMA},
    )
    async def search_customers(
        caller: Staff,
        q: str | None = Query(None, max_length=100, description="Name or phone number, or part of one"),
        cursor: str | None = Query(None, description="`next_cursor` of the previous page"),
        limit: int = Query(50, ge=1, le=200),
    ) -> CustomerPage:
        async with sessions() as session:
            try:
                rows, next_cursor = await queries.search_customers(
                    session, caller.account_id, q, limit, cursor, region
                )
            except InvalidCursor as exc:
                raise ApiError(422, "invalid_cursor", str(exc), [{"loc": ["query", "cursor"]}]) from exc
        return CustomerPage(items=[CustomerSummary(**row) for row in rows], next_cursor=next_cursor)

    @router.get(
        "/{customer_id}",
        response_model=CustomerDetail,
        summary="One customer",
        description="The profile, its numbers (with opt-out state and national format), its active "
        "conversation and the conversations archived by profile merges.",
        responses=NOT_FOUND,
    )
    async def get_customer(customer_id: UUID, caller: Staff) -> CustomerDetail:
        return await detail(caller.account_id, customer_id)

    @router.patch(
        "/{customer_id}",
        response_model=CustomerDetail,
        summary="Change a customer's names or e-mail",
        responses=NOT_FOUND_OR_INVALID,
    )
    async def update_customer(customer_id: UUID, caller: Staff, body: CustomerPatch) -> CustomerDetail:
        try:
            async with sessions.begin() as session:
                await usecases.update_customer(
                    session, caller.account_id, customer_id, body.model_dump(exclude_unset=True), _now()
                )
        except CustomerNotFound as exc:
            raise _customer_not_found() from exc
        return await detail(caller.account_id, customer_id)

    @router.post(
        "/{customer_id}/phones",
        status_code=201,
        response_model=PhoneView,
        summary="Add a phone number to a customer",
        description="Same rules as at creation: any human format, stored in E.164; a number that "
        "belongs to a customer of the account (this one included) is refused with 409 `phone_taken`.",
        responses={**NOT_FOUND_OR_INVALID, **PHONE_TAKEN},
    )
    async def add_phone(customer_id: UUID, caller: Staff, body: PhoneIn) -> PhoneView:
        phone = _parse_phone(body, region, ["body"])
        try:
            async with sessions.begin() as session:
                phone_id = await usecases.add_phone(session, caller.account_id, customer_id, phone, _now())
        except CustomerNotFound as exc:
            raise _customer_not_found() from exc
        except PhoneTaken as exc:
            raise _phone_taken(exc, ["body", "number"]) from exc
        return await phone_view(caller.account_id, customer_id, phone_id)

    @router.patch(
        "/{customer_id}/phones/{phone_id}",
        response_model=PhoneView,
        summary="Set what kind of line a number is",
        description="Staff may mark a number a landline (it will never be texted) or a mobile.",
        responses=NOT_FOUND_OR_INVALID,
    )
    async def change_phone_kind(
        customer_id: UUID, phone_id: UUID, caller: Staff, body: PhoneKindPatch
    ) -> PhoneView:
        try:
            async with sessions.begin() as session:
                await usecases.change_phone_kind(
                    session, caller.account_id, customer_id, phone_id, body.kind, _now()
                )
        except CustomerNotFound as exc:
            raise _customer_not_found() from exc
        except PhoneNotFound as exc:
            raise _phone_not_found() from exc
        return await phone_view(caller.account_id, customer_id, phone_id)

    @router.delete(
        "/{customer_id}/phones/{phone_id}",
        status_code=204,
        response_class=Response,
        summary="Remove a phone number from a customer",
        description="The customer's conversations and messages stay as they are; the number is free "
        "to be given to another customer.",
        responses=NOT_FOUND,
    )
    async def remove_phone(customer_id: UUID, phone_id: UUID, caller: Staff) -> Response:
        try:
            async with sessions.begin() as session:
                await usecases.remove_phone(session, caller.account_id, customer_id, phone_id, _now())
        except CustomerNotFound as exc:
            raise _customer_not_found() from exc
        except PhoneNotFound as exc:
            raise _phone_not_found() from exc
        return Response(status_code=204)

    @router.get(
        "/{customer_id}/notes",
        response_model=NotePage,
        summary="Internal notes on a customer's profile, newest first",
        responses=NOT_FOUND_OR_INVALID,
    )
    async def list_notes(
        customer_id: UUID,
        caller: Staff,
        cursor: str | None = Query(None, description="`next_cursor` of the previous page"),
        limit: int = Query(50, ge=1, le=200),
    ) -> NotePage:
        async with sessions() as session:
            try:
                found = await queries.customer_notes_page(
                    session, caller.account_id, customer_id, limit, cursor
                )
            except InvalidCursor as exc:
                raise ApiError(422, "invalid_cursor", str(exc), [{"loc": ["query", "cursor"]}]) from exc
        if found is None:
            raise _customer_not_found()
        rows, next_cursor = found
        return NotePage(items=[NoteView(**row) for row in rows], next_cursor=next_cursor)

    @router.post(
        "/{customer_id}/notes",
        status_code=201,
        response_model=NoteView,
        summary="Leave an internal note on a customer's profile",
        description='Seen by staff only, never sent to the customer — e.g. "no longer has a cell '
        'phone, call the landline". The caller is recorded as the author.',
        responses=NOT_FOUND_OR_INVALID,
    )
    async def add_note(customer_id: UUID, caller: Staff, body: NoteCreate) -> NoteView:
        try:
            async with sessions.begin() as session:
                note_id = await usecases.add_note(
                    session, caller.account_id, customer_id, caller.user_id, body.body, _now()
                )
        except CustomerNotFound as exc:
            raise _customer_not_found() from exc
        async with sessions() as session:
            note = await queries.customer_note(session, caller.account_id, note_id)
        assert note is not None
        return NoteView(**note)

    return router
