"""The dealership's numbers customers text (admin): list, add, remove."""

from dataclasses import asdict
from uuid import UUID

from fastapi import APIRouter, Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from routing.admin.models import AddPhoneNumberRequest, PhoneNumberView
from routing.admin.routes.refusals import FORBIDDEN, caller_with_role, conflict, not_found, now, refusals
from routing.admin.usecases import numbers as admin_numbers
from routing.settings import RoutingSettings
from routing.staff_auth import StaffAuthenticated
from shared.http.errors import error_response


def phone_number_routes(
    settings: RoutingSettings, sessions: async_sessionmaker[AsyncSession], auth: StaffAuthenticated
) -> APIRouter:
    router = APIRouter(tags=["phone numbers"])
    Admin = caller_with_role(auth, "admin")

    @router.get(
        "/phone-numbers",
        response_model=list[PhoneNumberView],
        summary="List the dealership's numbers (admin)",
        responses=FORBIDDEN,
    )
    async def list_numbers(caller: Admin) -> list[PhoneNumberView]:
        async with sessions() as session:
            numbers = await admin_numbers.list_numbers(session, caller.account_id)
        return [PhoneNumberView(**asdict(number)) for number in numbers]

    @router.post(
        "/phone-numbers",
        response_model=PhoneNumberView,
        status_code=201,
        summary="Add a number customers can text (admin)",
        description="The number is stored in E.164. A number can belong to one dealership only: one "
        "already registered anywhere is refused with 409 `number_taken`.",
        responses={
            **FORBIDDEN,
            **conflict("number_taken", "this number is already registered"),
            422: error_response(
                "Not a phone number (or the request is not valid)",
                "invalid_phone_number",
                "'12' is not a possible phone number",
            ),
        },
    )
    async def add_number(body: AddPhoneNumberRequest, caller: Admin) -> PhoneNumberView:
        with refusals():
            async with sessions.begin() as session:
                number = await admin_numbers.add_number(
                    session,
                    caller.account_id,
                    body.number,
                    body.carrier,
                    body.kind,
                    settings.default_phone_region,
                    now(),
                )
        return PhoneNumberView(**asdict(number))

    @router.delete(
        "/phone-numbers/{number_id}",
        status_code=204,
        summary="Remove a number (admin)",
        description="Texts to it are no longer received; conversations and messages stay.",
        responses={**FORBIDDEN, **not_found("phone number")},
    )
    async def remove_number(number_id: UUID, caller: Admin) -> Response:
        with refusals():
            async with sessions.begin() as session:
                await admin_numbers.remove_number(session, caller.account_id, number_id)
        return Response(status_code=204)

    return router
