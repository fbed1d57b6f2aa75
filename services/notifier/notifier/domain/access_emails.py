"""The e-mails that let someone into Switchboard: an invitation to set a password, a password
reset. Sent to the address routing names (the invitee is not a user yet), in English or Canadian
French. What is stored to render them holds the link: it is never logged."""

from dataclasses import dataclass

from shared.contracts.staff import PasswordResetRequested, StaffInvitationSent

STAFF_INVITATION = "staff_invitation"
PASSWORD_RESET = "password_reset"

_INVITATION_TITLES = {
    "en": "{account} invites you to Switchboard",
    "fr_CA": "{account} vous invite à Switchboard",
}
_RESET_TITLES = {
    "en": "Reset your Switchboard password",
    "fr_CA": "Réinitialisez votre mot de passe Switchboard",
}


@dataclass(frozen=True)
class AccessEmail:
    kind: str
    to_email: str
    to_name: str
    context: dict


def invitation_email(event: StaffInvitationSent) -> AccessEmail:
    language = event.language if event.language in _INVITATION_TITLES else "en"
    account = event.account_name or "Switchboard"
    return AccessEmail(
        kind=STAFF_INVITATION,
        to_email=event.email,
        to_name=event.name,
        context={
            "title": _INVITATION_TITLES[language].format(account=account),
            "language": language,
            "account_name": account,
            "invited_by_name": event.invited_by_name,
            "role": event.role,
            "link": event.link,
            "expires_on": event.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
        },
    )


def reset_email(event: PasswordResetRequested) -> AccessEmail:
    language = event.language if event.language in _RESET_TITLES else "en"
    return AccessEmail(
        kind=PASSWORD_RESET,
        to_email=event.email,
        to_name=event.name,
        context={
            "title": _RESET_TITLES[language],
            "language": language,
            "account_name": event.account_name or "Switchboard",
            "link": event.link,
            "expires_on": event.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
        },
    )
