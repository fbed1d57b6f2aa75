"""What a staff action can be refused with; the API turns each into its HTTP error."""

from uuid import UUID


class ConversationsNotFound(LookupError):
    """Some ids are not conversations of the caller's account (or do not exist at all: the
    caller cannot tell the difference)."""

    def __init__(self, ids: list[UUID]) -> None:
        super().__init__("conversation not found")
        self.ids = ids


class InvalidAssignee(ValueError):
    pass


class StatusConflict(ValueError):
    pass


class TooManyConversations(ValueError):
    """A bulk action by filter matches more conversations than one action may change."""
