"""Publishes every outcome as `sms.outbound_status.v1`."""

from collections.abc import Callable
from datetime import datetime

from shared.contracts.messaging import OutboundRequested, OutboundStatusChanged
from shared.contracts.topics import SMS_OUTBOUND_STATUS
from shared.kafka.broker import EventPublisher


class StatusReporter:
    def __init__(self, publisher: EventPublisher, clock: Callable[[], datetime]) -> None:
        self._publisher = publisher
        self._clock = clock

    async def report(self, request: OutboundRequested, status: str, **details: str | None) -> None:
        event = OutboundStatusChanged(
            account_id=request.account_id,
            message_id=request.message_id,
            conversation_id=request.conversation_id,
            status=status,
            carrier=request.carrier,
            to_number=request.to_number,
            at=self._clock(),
            **details,
        )
        await self._publisher.publish(SMS_OUTBOUND_STATUS, event, key=event.partition_key)
