"""Kafka consumers for sending: requests from other systems, outcomes from notifier and carriers."""

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from routing.outbox import OutboxRelay
from routing.settings import RoutingSettings
from shared.service import Infrastructure


def register_messaging_consumers(
    infra: Infrastructure,
    settings: RoutingSettings,
    sessions: async_sessionmaker[AsyncSession],
    relay: OutboxRelay,
) -> None:
    return None
