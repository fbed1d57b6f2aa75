"""Kafka consumers: each event becomes the notifications (and e-mails) its rules ask for, once.

The event's claim, the notifications and the queued e-mails commit in one transaction, so a
redelivered or replayed event finds its claim and changes nothing."""

from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from notifier import preferences, repository
from notifier.domain.actions import not_yet_told
from notifier.domain.assignments import drafts_for_assignment
from notifier.domain.delivery_failures import drafts_for_delivery_failure
from notifier.domain.drafts import NotificationDraft
from notifier.domain.exports import drafts_for_export
from notifier.domain.kinds import CONVERSATION_ASSIGNED as CONVERSATION_ASSIGNED_KIND
from notifier.domain.mentions import drafts_for_note
from notifier.domain.messages import drafts_for_message
from notifier.settings import NotifierSettings
from notifier.usecases.notify import deliver_all
from shared.contracts.base import Event
from shared.contracts.conversation import MessageReceived, NoteAdded
from shared.contracts.topics import (
    CONVERSATION_ASSIGNED,
    CONVERSATION_NOTE_ADDED,
    EXPORT_COMPLETED,
    MESSAGE_DELIVERY_FAILED,
    MESSAGE_RECEIVED,
    TopicSpec,
)
from shared.db.idempotency import claim_events
from shared.kafka.consumer import event_trace, subscribe, subscribe_batch
from shared.service import Infrastructure

log = structlog.get_logger(__name__)

EventT = TypeVar("EventT", bound=Event)
Drafter = Callable[[AsyncSession, EventT], Awaitable[list[NotificationDraft]]]


async def _message_drafts(session: AsyncSession, event: MessageReceived) -> list[NotificationDraft]:
    configured = None
    if event.assignee_user_id is None and event.assignee_team_id is None:
        # Asked once per account in a transaction (a batch of texts): it does not change there.
        known = session.info.setdefault("notifier.unassigned_recipients", {})
        if event.account_id not in known:
            known[event.account_id] = await preferences.unassigned_recipients(session, event.account_id)
        configured = known[event.account_id]
    return drafts_for_message(event, unassigned_recipients=configured)


async def _note_drafts(session: AsyncSession, event: NoteAdded) -> list[NotificationDraft]:
    """An assignee @mentioned in the note of their own assignment was already told, with the
    note, by the assignment notification (routing publishes the assignment first; if the note
    is handled first, both arrive — nothing is lost)."""
    drafts = drafts_for_note(event)
    if not drafts:
        return drafts
    told = await repository.told_of_action(
        session,
        event.account_id,
        [d.user_id for d in drafts],
        CONVERSATION_ASSIGNED_KIND,
        drafts[0].data["action"],
    )
    return not_yet_told(drafts, told)


def _pure(rule: Callable[[EventT], list[NotificationDraft]]) -> Drafter:
    async def drafts(_session: AsyncSession, event: EventT) -> list[NotificationDraft]:
        return rule(event)

    return drafts


RULES: tuple[tuple[TopicSpec, str, Drafter], ...] = (
    (MESSAGE_RECEIVED, "notifier.message_received", _message_drafts),
    (CONVERSATION_ASSIGNED, "notifier.assigned", _pure(drafts_for_assignment)),
    (CONVERSATION_NOTE_ADDED, "notifier.note_added", _note_drafts),
    (MESSAGE_DELIVERY_FAILED, "notifier.delivery_failed", _pure(drafts_for_delivery_failure)),
    (EXPORT_COMPLETED, "notifier.export_completed", _pure(drafts_for_export)),
)


def register_conversation_consumers(
    infra: Infrastructure, settings: NotifierSettings, on_email_queued: Callable[[], None] = lambda: None
) -> None:
    for spec, consumer, drafter in RULES:
        handle_batch = _handler(infra, settings, consumer, drafter, on_email_queued)

        async def handle(event: Event, handle_batch=handle_batch) -> None:
            await handle_batch([event])

        if spec is MESSAGE_RECEIVED:
            # New messages come at the inbound rate: the waiting ones in one transaction, in
            # partition order (shared/kafka/consumer.py).
            subscribe_batch(infra.broker, infra.publisher, settings, spec, "notifier", handle_batch, handle)
        else:
            subscribe(infra.broker, infra.publisher, settings, spec, "notifier", handle)


def _handler(
    infra: Infrastructure,
    settings: NotifierSettings,
    consumer: str,
    drafter: Drafter,
    on_email_queued: Callable[[], None],
) -> Callable[[list[Event]], Awaitable[None]]:
    async def handle(events: list[Event]) -> None:
        async with infra.sessions.begin() as session:
            # The batch's claims in one statement, its notifications in two (deliver_all).
            claimed = await claim_events(session, "notifier", consumer, [event.event_id for event in events])
            todo: list[tuple[Event, list[NotificationDraft]]] = []
            for event in events:
                if event.event_id not in claimed:  # handled before, or earlier in this batch
                    continue
                claimed.discard(event.event_id)
                with event_trace(event):
                    todo.append((event, await drafter(session, event)))
            delivered = await deliver_all(
                session,
                [(event.account_id, event.event_id, drafts) for event, drafts in todo],
                settings.live_channel,
            )
        done = [(event, stored, queued) for (event, _), (stored, queued) in zip(todo, delivered, strict=True)]
        if any(queued for _, _, queued in done):
            on_email_queued()
        for event, stored, queued in done:
            with event_trace(event):
                log.info(
                    "notifications stored",
                    consumer=consumer,
                    event_id=str(event.event_id),
                    count=stored,
                    emails=queued,
                )

    handle.__name__ = f"on_{consumer.split('.')[-1]}"
    return handle
