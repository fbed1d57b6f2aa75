"""What an invitation or a reset can be refused with; routes.py turns each into its HTTP error."""


class AccessRefused(ValueError):
    """`code` and `status` are the API's answer; the message says it plainly."""

    status = 400
    code = "invalid_request"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code


class AlreadyInvited(AccessRefused):
    status, code = 409, "invitation_pending"


class EmailTaken(AccessRefused):
    status, code = 409, "email_taken"


class InvitationNotFound(AccessRefused):
    status, code = 404, "not_found"


class InvalidLink(AccessRefused):
    """Not a link we made (mistyped, cut short, forged), or one for nothing that exists."""

    status, code = 400, "invalid_token"


class LinkGone(AccessRefused):
    """A real link that cannot be used any more: `code` says why (expired, used, revoked)."""

    status = 410


class InvalidTeams(AccessRefused):
    status, code = 422, "invalid_teams"


class WrongPassword(AccessRefused):
    """The invitee already has a login and typed another password than theirs."""

    status, code = 422, "wrong_password"
