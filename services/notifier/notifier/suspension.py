"""Suspended dealerships as notifier knows them: its own projection of routing's
`dealership.suspended.v1` / `dealership.resumed.v1`. While suspended, the dealership's staff are
refused by notifier's API (SuspendedAccounts, a set lookup per request) and its texts are held,
not sent and not dropped (outbound/sender.py, outbound/repository.py); once resumed, the release
job sends what was held."""

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier.settings import NotifierSettings
from shared.contracts.dealership import DealershipResumed, DealershipSuspended
from shared.contracts.topics import DEALERSHIP_RESUMED, DEALERSHIP_SUSPENDED
from shared.db.idempotency import claim_event
from shared.http.suspension import SuspendedAccounts
from shared.kafka.consumer import subscribe
from shared.service import Infrastructure

log = structlog.get_logger(__name__)

CONSUMER_GROUP = "notifier-suspensions"


async def record_suspension(session: AsyncSession, account_id: UUID, suspended: bool, at: datetime) -> None:
    """The newest change wins: a resume published after a suspension is never undone by the
    suspension arriving late (they travel on different topics)."""
    await session.execute(
        text(
            "INSERT INTO notifier.account_suspensions (account_id, suspended, changed_at)"
            " VALUES (:account, :suspended, :at)"
            " ON CONFLICT (account_id) DO UPDATE SET suspended = EXCLUDED.suspended,"
            " changed_at = EXCLUDED.changed_at"
            " WHERE notifier.account_suspensions.changed_at <= EXCLUDED.changed_at"
        ),
        {"account": account_id, "suspended": suspended, "at": at},
    )


async def is_suspended(session: AsyncSession, account_id: UUID) -> bool:
    return bool(
        await session.scalar(
            text("SELECT suspended FROM notifier.account_suspensions WHERE account_id = :account"),
            {"account": account_id},
        )
    )


def suspended_accounts(
    sessions: async_sessionmaker[AsyncSession], refresh_seconds: float
) -> SuspendedAccounts:
    async def load() -> set[UUID]:
        async with sessions() as session:
            rows = await session.scalars(
                text("SELECT account_id FROM notifier.account_suspensions WHERE suspended")
            )
            return set(rows)

    return SuspendedAccounts(load, refresh_seconds)


def register_suspension_consumers(
    infra: Infrastructure, settings: NotifierSettings, on_change: Callable[[], None] = lambda: None
) -> None:
    for spec, suspended in ((DEALERSHIP_SUSPENDED, True), (DEALERSHIP_RESUMED, False)):

        def handler(flag: bool = suspended, name: str = spec.name):
            async def handle(event: DealershipSuspended | DealershipResumed) -> None:
                async with infra.sessions.begin() as session:
                    if not await claim_event(session, "notifier", f"notifier.{name}", event.event_id):
                        return
                    await record_suspension(session, event.account_id, flag, event.occurred_at)
                on_change()
                log.info("dealership suspension", account_id=str(event.account_id), suspended=flag)

            return handle

        subscribe(infra.broker, infra.publisher, settings, spec, CONSUMER_GROUP, handler())
