"""Invitations and password resets from routing become e-mails in the e-mail outbox (sent, and
retried, by the e-mail worker), once per event. Their links are secrets: never logged."""

from collections.abc import Awaitable, Callable

import structlog

from notifier.domain.access_emails import AccessEmail, invitation_email, reset_email
from notifier.email.outbox import enqueue_direct_email
from notifier.settings import NotifierSettings
from shared.contracts.base import Event
from shared.contracts.topics import STAFF_INVITATION_SENT, STAFF_PASSWORD_RESET_REQUESTED
from shared.db.idempotency import claim_event
from shared.kafka.consumer import subscribe
from shared.service import Infrastructure

log = structlog.get_logger(__name__)


def register_access_consumers(
    infra: Infrastructure, settings: NotifierSettings, on_email_queued: Callable[[], None] = lambda: None
) -> None:
    for spec, consumer, make in (
        (STAFF_INVITATION_SENT, "notifier.staff_invitation", invitation_email),
        (STAFF_PASSWORD_RESET_REQUESTED, "notifier.password_reset", reset_email),
    ):
        subscribe(
            infra.broker,
            infra.publisher,
            settings,
            spec,
            "notifier",
            _handler(infra, consumer, make, on_email_queued),
        )


def _handler(
    infra: Infrastructure,
    consumer: str,
    make: Callable[..., AccessEmail],
    on_email_queued: Callable[[], None],
) -> Callable[[Event], Awaitable[None]]:
    async def handle(event: Event) -> None:
        email = make(event)
        async with infra.sessions.begin() as session:
            if not await claim_event(session, "notifier", consumer, event.event_id):
                return
            queued = await enqueue_direct_email(
                session,
                event.account_id,
                email.kind,
                event.event_id,
                email.context,
                email.to_email,
                email.to_name,
            )
        if queued:
            on_email_queued()
        log.info("access e-mail queued", consumer=consumer, event_id=str(event.event_id), queued=queued)

    handle.__name__ = f"on_{consumer.split('.')[-1]}"
    return handle
