"""Saved replies: an account's reusable texts, checked when saved and rendered for one customer,
sender and dealership. Every statement is scoped to the account: another account's saved reply,
customer or staff member is treated as one that does not exist."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

import phonenumbers
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from routing.domain import templates
from routing.domain.templates import InvalidTemplate
from routing.tables import account_phone_numbers, accounts, conversations, customers, saved_replies, users

__all__ = [
    "CustomerNotFound",
    "InvalidTemplate",
    "SavedReplyNameTaken",
    "SavedReplyNotFound",
    "SavedReplyRenderError",
    "render_saved_reply",
]


class SavedReplyNotFound(LookupError):
    """No saved reply with that id in the account (it may exist in another one)."""

    def __init__(self) -> None:
        super().__init__("saved reply not found")


class SavedReplyRenderError(ValueError):
    """The saved reply uses placeholders (without `default`) that have no value here."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__("no value for " + ", ".join(missing))
        self.missing = missing


class SavedReplyNameTaken(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"a saved reply named '{name}' already exists")
        self.name = name


class CustomerNotFound(LookupError):
    """The customer (or conversation) is not one of the account's."""


class NotAllowed(PermissionError):
    """An agent may change only the saved replies they created; admins change any."""


@dataclass(frozen=True)
class SavedReply:
    id: UUID
    name: str
    body: str
    placeholders: list[str]
    created_by_user_id: UUID | None
    created_at: datetime
    updated_at: datetime


def _saved_reply(row) -> SavedReply:
    return SavedReply(
        id=row.id,
        name=row.name,
        body=row.body,
        # Saved bodies were checked when written; a body a later rule refuses lists nothing here
        # and is refused again when rendered.
        placeholders=_placeholders_or_none(row.body),
        created_by_user_id=row.created_by_user_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _placeholders_or_none(body: str) -> list[str]:
    try:
        return templates.placeholders_of(body)
    except InvalidTemplate:
        return []


_COLUMNS = (
    saved_replies.c.id,
    saved_replies.c.name,
    saved_replies.c.body,
    saved_replies.c.created_by_user_id,
    saved_replies.c.created_at,
    saved_replies.c.updated_at,
)


# --- rendering --------------------------------------------------------------------------------


def _display_phone(e164: str | None) -> str | None:
    """The dealership's number the way people write it locally, e.g. (514) 555-0100."""
    if not e164:
        return None
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


async def template_values(
    session: AsyncSession,
    account_id: UUID,
    customer_id: UUID,
    sender_user_id: UUID | None,
    variables: Mapping[str, str],
    dealership_e164: str | None = None,
) -> dict[str, str]:
    """Every placeholder value known for this customer, sender and dealership. `variables`
    (e.g. "appointment.date" from the appointment a message starts from) override what the
    database says; an empty value counts as no value. Raises CustomerNotFound."""
    customer = (
        await session.execute(
            select(customers.c.first_name, customers.c.last_name).where(
                customers.c.id == customer_id, customers.c.account_id == account_id
            )
        )
    ).one_or_none()
    if customer is None:
        raise CustomerNotFound("customer not found")
    account_name = await session.scalar(select(accounts.c.name).where(accounts.c.id == account_id))
    if dealership_e164 is None:
        dealership_e164 = await session.scalar(
            select(account_phone_numbers.c.e164)
            .where(account_phone_numbers.c.account_id == account_id)
            .order_by(account_phone_numbers.c.created_at, account_phone_numbers.c.e164)
            .limit(1)
        )
    sender_name = None
    if sender_user_id is not None:
        sender_name = await session.scalar(
            select(users.c.name).where(users.c.id == sender_user_id, users.c.account_id == account_id)
        )
    first, last = (customer.first_name or "").strip(), (customer.last_name or "").strip()
    sender_name = (sender_name or "").strip()
    values = {
        "customer.first_name": first,
        "customer.last_name": last,
        "customer.full_name": " ".join(part for part in (first, last) if part),
        "sender.name": sender_name,
        "sender.first_name": sender_name.split()[0] if sender_name else "",
        "dealership.name": (account_name or "").strip(),
        "dealership.phone": _display_phone(dealership_e164) or "",
    }
    values.update({key: value for key, value in variables.items() if key in templates.PLACEHOLDERS})
    return {key: value for key, value in values.items() if value}


async def conversation_customer(
    session: AsyncSession, account_id: UUID, conversation_id: UUID
) -> tuple[UUID, str | None]:
    """The customer and dealership number of one of the account's conversations."""
    row = (
        await session.execute(
            select(conversations.c.customer_id, conversations.c.dealership_e164).where(
                conversations.c.id == conversation_id, conversations.c.account_id == account_id
            )
        )
    ).one_or_none()
    if row is None:
        raise CustomerNotFound("conversation not found")
    return row.customer_id, row.dealership_e164


def render_body(body: str, values: Mapping[str, str]) -> str:
    try:
        return templates.render(body, values)
    except templates.MissingValues as exc:
        raise SavedReplyRenderError(exc.missing) from exc


async def render_saved_reply(
    session: AsyncSession,
    account_id: UUID,
    saved_reply_id: UUID,
    customer_id: UUID,
    sender_user_id: UUID | None,
    variables: dict[str, str],
    dealership_e164: str | None = None,
) -> str:
    """The saved reply's text for this customer, sent by `sender_user_id` (None for automated
    sources). Raises SavedReplyNotFound, SavedReplyRenderError (every missing value at once;
    never a half-rendered text), CustomerNotFound, or InvalidTemplate for a stored body that
    today's rules refuse. `dealership_e164` is the conversation's number, when known."""
    body = await session.scalar(
        select(saved_replies.c.body).where(
            saved_replies.c.id == saved_reply_id, saved_replies.c.account_id == account_id
        )
    )
    if body is None:
        raise SavedReplyNotFound()
    values = await template_values(
        session, account_id, customer_id, sender_user_id, variables, dealership_e164
    )
    return render_body(body, values)


async def preview_draft(
    session: AsyncSession,
    account_id: UUID,
    body: str,
    customer_id: UUID | None,
    sender_user_id: UUID,
    variables: Mapping[str, str],
    dealership_e164: str | None = None,
) -> tuple[str, list[str], list[str]]:
    """A body not saved yet, as it would read for this customer (or for nobody in particular):
    the text, the placeholders it uses and those without a value (shown as `[name]`). Raises
    InvalidTemplate (what saving would refuse) or CustomerNotFound."""
    used = templates.placeholders_of(body)
    if customer_id is not None:
        values = await template_values(
            session, account_id, customer_id, sender_user_id, variables, dealership_e164
        )
    else:
        values = await _values_without_customer(session, account_id, sender_user_id, variables)
    text, missing = templates.preview(body, values)
    return text, used, missing


async def _values_without_customer(
    session: AsyncSession, account_id: UUID, sender_user_id: UUID, variables: Mapping[str, str]
) -> dict[str, str]:
    """The sender's and dealership's values, and `variables`: no customer's."""
    values: dict[str, str] = {}
    account_name = await session.scalar(select(accounts.c.name).where(accounts.c.id == account_id))
    dealership_e164 = await session.scalar(
        select(account_phone_numbers.c.e164)
        .where(account_phone_numbers.c.account_id == account_id)
        .order_by(account_phone_numbers.c.created_at, account_phone_numbers.c.e164)
        .limit(1)
    )
    sender_name = (
        await session.scalar(
            select(users.c.name).where(users.c.id == sender_user_id, users.c.account_id == account_id)
        )
        or ""
    ).strip()
    values = {
        "sender.name": sender_name,
        "sender.first_name": sender_name.split()[0] if sender_name else "",
        "dealership.name": (account_name or "").strip(),
        "dealership.phone": _display_phone(dealership_e164) or "",
    }
    values.update({key: value for key, value in variables.items() if key in templates.PLACEHOLDERS})
    return {key: value for key, value in values.items() if value}


# --- reading and writing ----------------------------------------------------------------------


async def list_saved_replies(session: AsyncSession, account_id: UUID) -> list[SavedReply]:
    rows = await session.execute(
        select(*_COLUMNS)
        .where(saved_replies.c.account_id == account_id)
        .order_by(func.lower(saved_replies.c.name), saved_replies.c.id)
    )
    return [_saved_reply(row) for row in rows]


async def get_saved_reply(session: AsyncSession, account_id: UUID, saved_reply_id: UUID) -> SavedReply:
    row = (
        await session.execute(
            select(*_COLUMNS).where(
                saved_replies.c.id == saved_reply_id, saved_replies.c.account_id == account_id
            )
        )
    ).one_or_none()
    if row is None:
        raise SavedReplyNotFound()
    return _saved_reply(row)


async def create_saved_reply(
    session: AsyncSession, account_id: UUID, author_user_id: UUID, name: str, body: str, now: datetime
) -> SavedReply:
    """Raises InvalidTemplate or SavedReplyNameTaken."""
    templates.placeholders_of(body)
    row = (
        await session.execute(
            insert(saved_replies)
            .values(
                id=uuid4(),
                account_id=account_id,
                name=name,
                body=body,
                created_by_user_id=author_user_id,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(constraint="saved_replies_name")
            .returning(*_COLUMNS)
        )
    ).one_or_none()
    if row is None:
        raise SavedReplyNameTaken(name)
    return _saved_reply(row)


async def _lock_for_change(
    session: AsyncSession, account_id: UUID, saved_reply_id: UUID, user_id: UUID, is_admin: bool
) -> None:
    author = (
        await session.execute(
            select(saved_replies.c.created_by_user_id)
            .where(saved_replies.c.id == saved_reply_id, saved_replies.c.account_id == account_id)
            .with_for_update()
        )
    ).one_or_none()
    if author is None:
        raise SavedReplyNotFound()
    if not is_admin and author.created_by_user_id != user_id:
        raise NotAllowed("only an admin or the saved reply's author may change it")


async def update_saved_reply(
    session: AsyncSession,
    account_id: UUID,
    saved_reply_id: UUID,
    user_id: UUID,
    is_admin: bool,
    now: datetime,
    name: str | None = None,
    body: str | None = None,
) -> SavedReply:
    """Raises SavedReplyNotFound, NotAllowed, InvalidTemplate or SavedReplyNameTaken."""
    await _lock_for_change(session, account_id, saved_reply_id, user_id, is_admin)
    changes: dict[str, object] = {"updated_at": now}
    if body is not None:
        templates.placeholders_of(body)
        changes["body"] = body
    if name is not None:
        taken = await session.scalar(
            select(saved_replies.c.id).where(
                saved_replies.c.account_id == account_id,
                saved_replies.c.name == name,
                saved_replies.c.id != saved_reply_id,
            )
        )
        if taken is not None:
            raise SavedReplyNameTaken(name)
        changes["name"] = name
    try:
        row = (
            await session.execute(
                update(saved_replies)
                .where(saved_replies.c.id == saved_reply_id, saved_replies.c.account_id == account_id)
                .values(**changes)
                .returning(*_COLUMNS)
            )
        ).one()
    except IntegrityError as exc:  # a concurrent rename took the name after the check above
        raise SavedReplyNameTaken(name or "") from exc
    return _saved_reply(row)


async def delete_saved_reply(
    session: AsyncSession, account_id: UUID, saved_reply_id: UUID, user_id: UUID, is_admin: bool
) -> None:
    """Raises SavedReplyNotFound or NotAllowed. Messages already sent keep their text."""
    await _lock_for_change(session, account_id, saved_reply_id, user_id, is_admin)
    await session.execute(
        delete(saved_replies).where(
            saved_replies.c.id == saved_reply_id, saved_replies.c.account_id == account_id
        )
    )
