"""The dealership's settings: its name, time zone, when an unanswered conversation turns
overdue, auto-close (off, or after 1 to 15 days without activity) and the help text."""

from dataclasses import dataclass
from functools import cache
from uuid import UUID
from zoneinfo import available_timezones

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from routing.admin.usecases.errors import NotInAccount
from routing.tables import accounts

UNANSWERED_AFTER_HOURS = (1, 168)
AUTO_CLOSE_AFTER_DAYS = (1, 15)
SETTING_FIELDS = ("name", "time_zone", "unanswered_after_hours", "auto_close_after_days", "help_text")


@dataclass(frozen=True)
class AccountSettings:
    name: str
    time_zone: str
    unanswered_after_hours: int
    auto_close_after_days: int | None
    help_text: str | None


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_time_zone(name: str) -> bool:
    """An IANA zone name such as America/Toronto (looked up in the list, never opened as a path)."""
    return name in _time_zones()


async def get_settings(session: AsyncSession, account_id: UUID) -> AccountSettings:
    row = (
        await session.execute(
            select(*(accounts.c[field] for field in SETTING_FIELDS)).where(accounts.c.id == account_id)
        )
    ).first()
    if row is None:
        raise NotInAccount("account")
    return AccountSettings(**row._mapping)


async def change_settings(session: AsyncSession, account_id: UUID, changes: dict) -> AccountSettings:
    """`changes` holds only the fields to change (an explicit None turns auto-close or the help
    text off); values are already validated."""
    unknown = set(changes) - set(SETTING_FIELDS)
    if unknown:
        raise ValueError(f"not settings: {sorted(unknown)}")
    if changes:
        await session.execute(update(accounts).where(accounts.c.id == account_id).values(**changes))
    return await get_settings(session, account_id)
