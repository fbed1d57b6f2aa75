"""The read side: what staff see. Every query starts from the caller's account
(`conversations_of`), and every filter narrows that base statement. The menus' numbers are in
counts.py."""

from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    false,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from routing.cursors import decode_cursor, encode_cursor
from routing.domain.inbox import InboxFilter, ReadFilter, Status, View, Viewer
from routing.tables import (
    accounts,
    conversations,
    customer_phones,
    customers,
    messages,
    read_marks,
    team_members,
    teams,
    timeline_events,
    users,
)


def conversations_of(account_id: UUID) -> Select:
    return select(conversations).where(conversations.c.account_id == account_id)


async def viewer_for(session: AsyncSession, account_id: UUID, user_id: UUID, is_admin: bool) -> Viewer:
    team_ids = await session.scalars(
        select(team_members.c.team_id)
        .join(teams, teams.c.id == team_members.c.team_id)
        .where(team_members.c.user_id == user_id, teams.c.account_id == account_id)
    )
    return Viewer(account_id, user_id, is_admin, frozenset(team_ids))


# --- the rules of domain/inbox.py, as SQL over `conversations` --------------------------------


def computed_owner_read_at() -> ColumnElement:
    """The furthest read position among the conversation's owners: the assigned user, any member
    of the assigned team, anyone when nobody is assigned. Stored in `conversations.owner_read_at`
    (see conversations/usecases/read_state.py) so that read filters are a column comparison, not a subquery
    per row."""
    c = conversations.c
    team_users = select(team_members.c.user_id).where(team_members.c.team_id == c.assignee_team_id)
    return (
        select(func.max(read_marks.c.last_read_at))
        .where(
            read_marks.c.conversation_id == c.id,
            or_(
                and_(c.assignee_user_id.is_not(None), read_marks.c.user_id == c.assignee_user_id),
                and_(c.assignee_team_id.is_not(None), read_marks.c.user_id.in_(team_users)),
                and_(c.assignee_user_id.is_(None), c.assignee_team_id.is_(None)),
            ),
        )
        .scalar_subquery()
    )


def is_read() -> ColumnElement:
    c = conversations.c
    # Never NULL (nobody read it yet), so that NOT is_read() means unread.
    return or_(c.last_inbound_at.is_(None), func.coalesce(c.owner_read_at >= c.last_inbound_at, false()))


def is_unanswered() -> ColumnElement:
    c = conversations.c
    return and_(
        c.last_inbound_at.is_not(None),
        or_(c.last_outbound_at.is_(None), c.last_outbound_at < c.last_inbound_at),
    )


def view_clause(view: View, viewer: Viewer) -> ColumnElement:
    c = conversations.c
    if view.kind == "all":
        return true()
    if view.kind == "unassigned":
        return and_(c.assignee_user_id.is_(None), c.assignee_team_id.is_(None))
    if view.kind == "user":
        return c.assignee_user_id == view.id
    if view.kind == "team":
        return c.assignee_team_id == view.id
    mine = c.assignee_user_id == viewer.user_id
    if viewer.team_ids:
        mine = or_(mine, c.assignee_team_id.in_(viewer.team_ids))
    return mine


def status_clause(status: Status) -> ColumnElement:
    """`all` is open and closed, as the inbox's menu says; archived conversations (of merged
    profiles) are asked for by name, and the customer's profile lists them."""
    if status == "all":
        return conversations.c.status != "archived"
    return conversations.c.status == status


def read_clause(read: frozenset[ReadFilter]) -> ColumnElement:
    """Several read filters at once are a union."""
    if not read:
        return true()
    parts = []
    if "read" in read:
        parts.append(is_read())
    if "unread" in read:
        parts.append(~is_read())
    if "unanswered" in read:
        parts.append(is_unanswered())
    return or_(*parts)


def filter_clause(inbox_filter: InboxFilter, viewer: Viewer) -> ColumnElement:
    return and_(
        view_clause(inbox_filter.view, viewer),
        status_clause(inbox_filter.status),
        read_clause(inbox_filter.read),
    )


def matching(viewer: Viewer, inbox_filter: InboxFilter) -> Select:
    return conversations_of(viewer.account_id).where(filter_clause(inbox_filter, viewer))


# --- the list ---------------------------------------------------------------------------------


def _customer_phone() -> ColumnElement:
    return (
        select(func.min(customer_phones.c.e164))
        .where(customer_phones.c.customer_id == conversations.c.customer_id)
        .scalar_subquery()
    )


def _with_inbox_columns(query: Select) -> Select:
    """What a row of the inbox shows besides the conversation: the customer and what the flags
    of domain/inbox.py are computed from."""
    c = conversations.c
    return (
        query.add_columns(
            customers.c.first_name,
            customers.c.last_name,
            _customer_phone().label("customer_phone"),
            accounts.c.unanswered_after_hours,
        )
        .join(customers, customers.c.id == c.customer_id)
        .join(accounts, accounts.c.id == c.account_id)
    )


def list_conversations_query(
    viewer: Viewer, inbox_filter: InboxFilter, limit: int, cursor: str | None = None
) -> Select:
    """The statement of one page (one extra row tells whether there is a next page)."""
    c = conversations.c
    query = (
        _with_inbox_columns(matching(viewer, inbox_filter))
        .order_by(c.last_activity_at.desc(), c.id.desc())
        .limit(limit + 1)
    )
    if cursor is not None:
        at, row_id = decode_cursor(cursor)
        query = query.where(tuple_(c.last_activity_at, c.id) < tuple_(literal(at), literal(row_id)))
    return query


async def list_conversations(
    session: AsyncSession,
    viewer: Viewer,
    inbox_filter: InboxFilter,
    limit: int,
    cursor: str | None = None,
) -> tuple[list[dict], str | None]:
    """One page, latest activity first, and the cursor of the next page (None on the last)."""
    query = list_conversations_query(viewer, inbox_filter, limit, cursor)
    rows = [dict(row._mapping) for row in await session.execute(query)]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1]["last_activity_at"], rows[-1]["id"])
    return rows, next_cursor


async def conversation_row(session: AsyncSession, viewer: Viewer, conversation_id: UUID) -> dict | None:
    query = _with_inbox_columns(
        conversations_of(viewer.account_id).where(conversations.c.id == conversation_id)
    )
    row = (await session.execute(query)).first()
    return dict(row._mapping) if row else None


# --- messages and the timeline ----------------------------------------------------------------


async def conversation_exists(session: AsyncSession, account_id: UUID, conversation_id: UUID) -> bool:
    found = await session.scalar(
        conversations_of(account_id)
        .with_only_columns(conversations.c.id)
        .where(conversations.c.id == conversation_id)
    )
    return found is not None


async def conversation_messages(
    session: AsyncSession, account_id: UUID, conversation_id: UUID, limit: int
) -> list[dict] | None:
    if not await conversation_exists(session, account_id, conversation_id):
        return None
    query = (
        _messages_with_sender()
        .where(messages.c.account_id == account_id, messages.c.conversation_id == conversation_id)
        .order_by(messages.c.created_at, messages.c.id)
        .limit(limit)
    )
    return [dict(row._mapping) for row in await session.execute(query)]


def _messages_with_sender() -> Select:
    """Message rows with the sender's name, which the customer sees as who is texting them."""
    return select(messages, users.c.name.label("sender_name")).outerjoin(
        users, users.c.id == messages.c.sender_user_id
    )


async def messages_by_id(
    session: AsyncSession, account_id: UUID, message_ids: list[UUID]
) -> dict[UUID, dict]:
    query = _messages_with_sender().where(messages.c.account_id == account_id, messages.c.id.in_(message_ids))
    return {row.id: dict(row._mapping) for row in await session.execute(query)}


async def timeline(
    session: AsyncSession,
    account_id: UUID,
    conversation_id: UUID,
    limit: int,
    cursor: str | None = None,
    newest_first: bool = False,
) -> tuple[list[dict], str | None] | None:
    """Messages and timeline events merged, oldest first (or newest first, the cursor then going
    back in time); None when the conversation is not one of the account's."""
    if not await conversation_exists(session, account_id, conversation_id):
        return None
    m = messages.c
    e = timeline_events.c
    message_rows = select(
        m.id.label("id"),
        literal_column("'message'").label("kind"),
        m.created_at.label("created_at"),
        m.sender_user_id.label("actor_user_id"),
        null().label("data"),
    ).where(m.account_id == account_id, m.conversation_id == conversation_id)
    event_rows = select(
        e.id.label("id"),
        e.kind.label("kind"),
        e.created_at.label("created_at"),
        e.actor_user_id.label("actor_user_id"),
        e.data.label("data"),
    ).where(e.account_id == account_id, e.conversation_id == conversation_id)
    merged = union_all(message_rows, event_rows).subquery("timeline")
    position = tuple_(merged.c.created_at, merged.c.id)
    order = (
        (merged.c.created_at.desc(), merged.c.id.desc())
        if newest_first
        else (merged.c.created_at, merged.c.id)
    )
    query = (
        select(merged, users.c.name.label("actor_name"))
        .outerjoin(users, users.c.id == merged.c.actor_user_id)
        .order_by(*order)
        .limit(limit + 1)
    )
    if cursor is not None:
        at, row_id = decode_cursor(cursor)
        after = tuple_(literal(at), literal(row_id))
        query = query.where(position < after if newest_first else position > after)
    rows = [dict(row._mapping) for row in await session.execute(query)]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1]["created_at"], rows[-1]["id"])
    message_ids = [row["id"] for row in rows if row["kind"] == "message"]
    if message_ids:
        found = await messages_by_id(session, account_id, message_ids)
        for row in rows:
            if row["kind"] == "message":
                row["message"] = found[row["id"]]
    return rows, next_cursor
