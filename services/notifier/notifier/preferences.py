"""Queries on who wants what by e-mail, and on an account's recipients for unassigned
conversations."""

from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# Asked for every batch of texts: built once, so SQLAlchemy computes their cache keys once.
_EMAIL_CHOICES = text(
    "SELECT user_id, kind, by_email FROM notifier.email_preferences"
    " WHERE account_id = :account AND user_id = ANY(:users)"
)
_UNASSIGNED_RECIPIENTS = text(
    "SELECT user_ids FROM notifier.unassigned_recipients WHERE account_id = :account"
)


async def stored_email_choices(
    session: AsyncSession, account_id: UUID, user_ids: list[UUID]
) -> dict[UUID, dict]:
    """{user: {kind: by_email}} for what each user chose; users who chose nothing are absent."""
    if not user_ids:
        return {}
    rows = await session.execute(_EMAIL_CHOICES, {"account": account_id, "users": list(user_ids)})
    choices: dict[UUID, dict] = {}
    for row in rows:
        choices.setdefault(row.user_id, {})[row.kind] = row.by_email
    return choices


async def save_email_choices(
    session: AsyncSession, account_id: UUID, user_id: UUID, choices: dict[str, bool]
) -> None:
    for kind, by_email in choices.items():
        await session.execute(
            text(
                "INSERT INTO notifier.email_preferences (account_id, user_id, kind, by_email)"
                " VALUES (:account, :user, :kind, :by_email)"
                " ON CONFLICT (account_id, user_id, kind)"
                " DO UPDATE SET by_email = excluded.by_email, updated_at = now()"
            ),
            {"account": account_id, "user": user_id, "kind": kind, "by_email": by_email},
        )


async def unassigned_recipients(session: AsyncSession, account_id: UUID) -> list[UUID] | None:
    """The account's own choice, or None when it keeps the default (its admins)."""
    return await session.scalar(_UNASSIGNED_RECIPIENTS, {"account": account_id})


async def save_unassigned_recipients(
    session: AsyncSession, account_id: UUID, user_ids: list[UUID], updated_by: UUID
) -> None:
    await session.execute(
        text(
            "INSERT INTO notifier.unassigned_recipients (account_id, user_ids, updated_by)"
            " VALUES (:account, :users, :by)"
            " ON CONFLICT (account_id) DO UPDATE"
            " SET user_ids = excluded.user_ids, updated_by = excluded.updated_by, updated_at = now()"
        ),
        {"account": account_id, "users": list(user_ids), "by": updated_by},
    )


async def reset_unassigned_recipients(session: AsyncSession, account_id: UUID) -> None:
    await session.execute(
        text("DELETE FROM notifier.unassigned_recipients WHERE account_id = :account"),
        {"account": account_id},
    )
