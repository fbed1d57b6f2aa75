"""What an admin action can be refused with; the admin API turns each into its HTTP error."""

from uuid import UUID


class NotInAccount(LookupError):
    """No such user / team / number in the caller's account (whether it exists in another one
    or not at all: the caller cannot tell the difference)."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} not found")
        self.what = what


class EmailTaken(ValueError):
    """E-mails are unique across every account: they are the login."""


class CannotChangeSelf(ValueError):
    """An admin may not deactivate or demote themselves (someone else must)."""


class LastAdmin(ValueError):
    """The change would leave the account without an active admin."""


class TeamNameTaken(ValueError):
    pass


class InvalidMembers(ValueError):
    """Some ids are not active users of the account."""

    def __init__(self, user_ids: list[UUID]) -> None:
        super().__init__("every member must be an active user of your account")
        self.user_ids = user_ids


class TeamInUse(ValueError):
    """Conversations are still assigned to the team (they would lose their assignee)."""

    def __init__(self, conversations: int) -> None:
        super().__init__(f"{conversations} conversation(s) are assigned to this team; reassign them first")
        self.conversations = conversations


class NumberTaken(ValueError):
    """The number is already registered (by this account or another: which one is not said)."""
