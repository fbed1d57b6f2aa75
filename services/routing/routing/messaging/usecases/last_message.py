"""The conversation's latest message (its time, id, direction and the start of its body), kept on
the conversation in the transaction that stores each message, so the inbox list shows a preview
without looking up every row's latest message. Messages can be stored out of order (a carrier's
late delivery of an older text), so the latest in the timeline's order (created_at, id) wins."""

from datetime import datetime
from uuid import UUID

from sqlalchemy import DateTime, Uuid, bindparam, case, or_, tuple_

from routing.domain.inbox import message_preview
from routing.tables import conversations


def first_message_values(message_id: UUID, at: datetime, direction: str, body: str | None) -> dict:
    """For a conversation inserted with its first message."""
    return {
        "last_message_at": at,
        "last_message_id": message_id,
        "last_message_preview": message_preview(body),
        "last_message_direction": direction,
    }


def latest_message_values(message_id: UUID, at: datetime, direction: str, body: str | None) -> dict:
    """SET values for an UPDATE of the conversation: the message becomes the latest unless a later
    one is stored already."""
    c = conversations.c
    new_at = bindparam("new_message_at", at, type_=DateTime(timezone=True))
    new_id = bindparam("new_message_id", message_id, type_=Uuid)
    newer = or_(
        c.last_message_at.is_(None), tuple_(c.last_message_at, c.last_message_id) < tuple_(new_at, new_id)
    )
    values = first_message_values(message_id, at, direction, body)
    return {
        name: case((newer, bindparam(f"new_{name}", value, type_=c[name].type)), else_=c[name])
        for name, value in values.items()
    }


def latest_message_params(message_id: UUID, at: datetime, direction: str, body: str | None) -> dict:
    """The values of `latest_message_values`' parameters, for a statement built once with
    placeholders and executed with these (no statement built per message)."""
    return {
        "new_message_at": at,
        "new_message_id": message_id,
        **{
            f"new_{name}": value
            for name, value in first_message_values(message_id, at, direction, body).items()
        },
    }
