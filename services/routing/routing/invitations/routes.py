"""Invitations (admins invite colleagues; an invitee sets their own password) and password
resets. Accepting either answers a fresh login token and ends every other session of the user.
Tokens and passwords are never logged nor answered back."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from routing.auth.models import TokenResponse
from routing.domain.passwords import PasswordRefused
from routing.invitations.models import (
    AcceptRequest,
    CreateInvitationRequest,
    InvitationView,
    PasswordResetRequest,
)
from routing.invitations.usecases import invitations as invites
from routing.invitations.usecases import resets
from routing.invitations.usecases.errors import AccessRefused
from routing.settings import RoutingSettings
from routing.staff_auth import StaffAuthenticated, role_guard
from shared.http.auth import Principal, issue_token
from shared.http.errors import ApiError, error_response

ADMIN_ONLY = {
    401: error_response("No token, or the user was deactivated", "unauthorized", "invalid or expired token"),
    403: error_response("Admins only", "forbidden", "only admin may do this"),
}
LINK_ERRORS = {
    400: error_response("Not a valid link (mistyped, cut short)", "invalid_token", "this link is not valid"),
    410: error_response(
        "The link was used, withdrawn or has expired: `invitation_used`, `invitation_revoked`, "
        "`invitation_expired`, `reset_used`, `reset_expired`",
        "invitation_expired",
        "this invitation has expired; ask your administrator for a new one",
    ),
    422: error_response(
        "The password is refused: `password_too_short` (under 12 characters), `password_too_common`",
        "password_too_common",
        "this password is among the most commonly used; choose another",
    ),
}


@contextmanager
def _refusals() -> Iterator[None]:
    try:
        yield
    except PasswordRefused as exc:
        raise ApiError(422, exc.code, str(exc), [{"loc": ["body", "password"]}]) from exc
    except AccessRefused as exc:
        raise ApiError(exc.status, exc.code, str(exc)) from exc


def _now() -> datetime:
    return datetime.now(UTC)


def invitations_router(
    settings: RoutingSettings,
    sessions: async_sessionmaker[AsyncSession],
    auth: StaffAuthenticated,
    on_events=lambda: None,
) -> APIRouter:
    router = APIRouter(prefix="/api/v1")
    Admin = Annotated[Principal, Depends(role_guard(auth, "admin"))]

    def signed_in(user_id: UUID, account_id: UUID, role: str) -> TokenResponse:
        auth.forget(account_id, user_id)
        return TokenResponse(access_token=issue_token(settings, str(user_id), account_id, role))  # type: ignore[arg-type]

    @router.post(
        "/invitations",
        status_code=201,
        response_model=InvitationView,
        tags=["staff"],
        summary="Invite a colleague",
        description="E-mails them a signed link, good for 7 days and once, to set their own password. "
        "409 `invitation_pending` when they already have a pending invitation, `email_taken` when "
        "someone signs in with this e-mail; 422 for a malformed e-mail or an unknown team.",
        responses={
            **ADMIN_ONLY,
            409: error_response(
                "Already invited, or the e-mail is taken", "invitation_pending", "already invited"
            ),
        },
    )
    async def create_invitation(body: CreateInvitationRequest, caller: Admin) -> InvitationView:
        new = invites.NewInvitation(body.email, body.name, body.role, tuple(body.team_ids), body.language)
        with _refusals():
            async with sessions.begin() as session:
                issued = await invites.invite(
                    session, settings, caller.account_id, new, _now(), caller.user_id
                )
        on_events()
        return InvitationView(**asdict(issued.invitation))

    @router.get(
        "/invitations",
        response_model=list[InvitationView],
        tags=["staff"],
        summary="Pending invitations",
        description="Not yet accepted, revoked or expired; newest first.",
        responses=ADMIN_ONLY,
    )
    async def list_invitations(caller: Admin) -> list[InvitationView]:
        async with sessions() as session:
            pending = await invites.pending_invitations(session, caller.account_id, _now())
        return [InvitationView(**asdict(invitation)) for invitation in pending]

    @router.delete(
        "/invitations/{invitation_id}",
        status_code=204,
        tags=["staff"],
        summary="Revoke an invitation",
        description="Its link stops working at once. 404 when already accepted or not yours.",
        responses={
            **ADMIN_ONLY,
            404: error_response("No such pending invitation", "not_found", "invitation not found"),
        },
    )
    async def revoke(invitation_id: UUID, caller: Admin) -> Response:
        with _refusals():
            async with sessions.begin() as session:
                await invites.revoke_invitation(session, caller.account_id, invitation_id, _now())
        return Response(status_code=204)

    @router.post(
        "/invitations/accept",
        response_model=TokenResponse,
        tags=["auth"],
        summary="Accept an invitation: set my password",
        description="No bearer token: the link's token is the proof. Creates the user with this "
        "password and answers a login token (the same as `POST /api/v1/auth/login`).",
        responses={**LINK_ERRORS, 409: error_response("The e-mail is taken", "email_taken", "already used")},
    )
    async def accept(body: AcceptRequest) -> TokenResponse:
        with _refusals():
            async with sessions.begin() as session:
                accepted = await invites.accept_invitation(
                    session, settings, body.token, body.password, _now()
                )
        return signed_in(accepted.user_id, accepted.account_id, accepted.role)

    @router.post(
        "/password-resets",
        status_code=202,
        # No body: the document must not promise JSON (schemathesis checks it does not).
        response_class=Response,
        tags=["auth"],
        summary="Forgot my password: e-mail me a reset link",
        description="Always 202, whether the e-mail belongs to someone or not. An active user is "
        "e-mailed a link good for one hour and once (at most a few an hour; more are ignored).",
    )
    async def request_reset(body: PasswordResetRequest) -> Response:
        async with sessions.begin() as session:
            queued = await resets.request_reset(session, settings, body.email, _now())
        if queued:
            on_events()
        return Response(status_code=202)

    @router.post(
        "/password-resets/accept",
        response_model=TokenResponse,
        tags=["auth"],
        summary="Set a new password from a reset link",
        description="Ends every other session of the user and answers a fresh login token.",
        responses=LINK_ERRORS,
    )
    async def accept_reset(body: AcceptRequest) -> TokenResponse:
        with _refusals():
            async with sessions.begin() as session:
                done = await resets.reset_password(session, settings, body.token, body.password, _now())
        for account_id, user_id in done.other_seats:  # the person's sessions at their other dealerships
            auth.forget(account_id, user_id)
        return signed_in(done.user_id, done.account_id, done.role)

    return router
