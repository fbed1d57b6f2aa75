"""Staff access e-mails: routing (which owns users) asks notifier to e-mail a signed, single-use,
expiring link: an invitation to set one's password, or a password reset. The link is a secret:
consumers never log it."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from shared.contracts.base import Event

Language = Literal["en", "fr_CA"]


class StaffInvitationSent(Event):
    """Someone was invited to a dealership: e-mail them `link` to set their password."""

    invitation_id: UUID
    email: str
    name: str
    role: str
    account_name: str
    language: Language = "en"
    invited_by_name: str | None = None
    link: str = Field(description="`{web}/invitations/accept?token=...`: a secret, never logged")
    expires_at: datetime

    @property
    def partition_key(self) -> str:
        return str(self.invitation_id)


class PasswordResetRequested(Event):
    """A staff member asked to reset a forgotten password: e-mail them `link`."""

    reset_id: UUID
    user_id: UUID
    email: str
    name: str
    account_name: str
    language: Language = "en"
    link: str = Field(description="`{web}/password-reset?token=...`: a secret, never logged")
    expires_at: datetime

    @property
    def partition_key(self) -> str:
        return str(self.user_id)
