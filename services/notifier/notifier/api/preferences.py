"""Each staff member chooses which kinds of notification also come by e-mail."""

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier import preferences
from notifier.api.staff import staff_dependency
from notifier.domain.kinds import EMAIL_ONLY, KINDS, email_choices
from notifier.settings import NotifierSettings
from shared.http.auth import Authenticated, Principal
from shared.http.errors import ERROR_RESPONSE_SCHEMA, ApiError
from shared.http.suspension import SuspendedAccounts


class EmailPreferences(BaseModel):
    email: dict[str, bool] = Field(
        description="Per kind (message_received, conversation_assigned, mentioned, delivery_failed, "
        "export_completed): also send it by e-mail. Defaults: only export_completed, which always "
        "goes by e-mail (its link is never shown in the app).",
        examples=[{"message_received": False, "conversation_assigned": True, "export_completed": True}],
    )


class EmailPreferencesChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: dict[str, bool] = Field(description="The kinds to change; kinds not named keep their setting")


def preferences_router(
    settings: NotifierSettings,
    sessions: async_sessionmaker[AsyncSession],
    suspended: SuspendedAccounts | None = None,
) -> APIRouter:
    router = APIRouter(prefix="/api/v1/notification-preferences", tags=["notifications"])
    Caller = Annotated[Principal, Depends(staff_dependency(Authenticated(settings, suspended=suspended)))]
    errors = {401: ERROR_RESPONSE_SCHEMA, 403: ERROR_RESPONSE_SCHEMA}

    async def current(session: AsyncSession, caller: Principal) -> EmailPreferences:
        stored = await preferences.stored_email_choices(session, caller.account_id, [caller.user_id])
        return EmailPreferences(email=email_choices(stored.get(caller.user_id, {})))

    @router.get("", response_model=EmailPreferences, summary="The caller's e-mail choices", responses=errors)
    async def read(caller: Caller) -> EmailPreferences:
        async with sessions() as session:
            return await current(session, caller)

    @router.put(
        "",
        response_model=EmailPreferences,
        summary="Change which kinds also come by e-mail",
        responses={**errors, 422: ERROR_RESPONSE_SCHEMA},
    )
    async def change(caller: Caller, body: EmailPreferencesChange) -> EmailPreferences:
        unknown = sorted(set(body.email) - set(KINDS))
        if unknown:
            raise ApiError(
                422, "invalid_request", "unknown notification kind", {"kinds": unknown, "known": list(KINDS)}
            )
        refused = sorted(kind for kind, wanted in body.email.items() if kind in EMAIL_ONLY and not wanted)
        if refused:
            raise ApiError(
                422,
                "invalid_request",
                "these only ever come by e-mail and cannot be turned off",
                {"kinds": refused},
            )
        async with sessions.begin() as session:
            await preferences.save_email_choices(session, caller.account_id, caller.user_id, body.email)
            return await current(session, caller)

    return router
