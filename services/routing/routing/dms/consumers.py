"""The Kafka consumer of `dms.events.v1`: what integrators publish straight to Kafka or through
ingest. An event that does not fit the contract is dead-lettered with the reason by `subscribe`."""

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from routing.dms.usecases.events import apply_dms_event
from routing.outbox import OutboxRelay
from routing.settings import RoutingSettings
from shared.contracts.dms import DmsEvent
from shared.contracts.topics import DMS_EVENTS
from shared.kafka.consumer import subscribe
from shared.service import Infrastructure

log = structlog.get_logger(__name__)


def register_dms_consumers(
    infra: Infrastructure,
    settings: RoutingSettings,
    sessions: async_sessionmaker[AsyncSession],
    relay: OutboxRelay,
) -> None:
    async def on_dms_event(event: DmsEvent) -> None:
        async with sessions.begin() as session:
            changed = await apply_dms_event(session, event.root, settings.default_phone_region)
        log.info(
            "dms event handled", type=event.root.type, event_id=str(event.root.event_id), changed=changed
        )
        if changed:
            relay.wake()

    subscribe(infra.broker, infra.publisher, settings, DMS_EVENTS, "routing", on_dms_event)
