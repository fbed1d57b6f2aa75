"""Merging two customer profiles of an account (see domain/merge.py for when): the survivor
keeps the number and its active conversation; the merged-away profile's conversation becomes an
archived conversation of the survivor (or its active one, when the survivor had none), with the
merge in both timelines. Nothing is deleted: the merged-away profile stays, pointing at the
survivor; assignments, read marks and messages stay on their conversations."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

import structlog
from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from routing.customers.usecases import emit_customer_changed
from routing.domain.merge import plan_conversations
from routing.outbox import add_event
from routing.tables import conversations, customer_notes, customer_phones, customers, timeline_events
from shared.contracts.customer import ConversationMerged
from shared.contracts.topics import CONVERSATION_MERGED

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class MergeResult:
    archived_conversation_id: UUID | None
    surviving_conversation_id: UUID | None
    moved_conversation_ids: list[UUID]


async def merge_profiles(
    session: AsyncSession,
    account_id: UUID,
    survivor_id: UUID,
    merged_id: UUID,
    phone_e164: str,
    now: datetime,
) -> MergeResult | None:
    """None when there is nothing to merge (the same profile, or already merged)."""
    if survivor_id == merged_id:
        return None
    # Both rows locked in id order, so two merges touching the same profiles cannot deadlock.
    locked = (
        await session.execute(
            select(customers.c.id, customers.c.merged_into_customer_id)
            .where(customers.c.account_id == account_id, customers.c.id.in_([survivor_id, merged_id]))
            .order_by(customers.c.id)
            .with_for_update()
        )
    ).all()
    merged_state = {row.id: row.merged_into_customer_id for row in locked}
    if len(merged_state) != 2 or merged_state[merged_id] is not None:
        return None

    owned = (
        await session.execute(
            select(conversations.c.id, conversations.c.customer_id, conversations.c.status)
            .where(
                conversations.c.account_id == account_id,
                conversations.c.customer_id.in_([survivor_id, merged_id]),
            )
            .order_by(conversations.c.created_at, conversations.c.id)
            .with_for_update()
        )
    ).all()
    active = {c.customer_id: c.id for c in owned if c.status != "archived"}
    survivor_active, merged_active = active.get(survivor_id), active.get(merged_id)
    moved = [c.id for c in owned if c.customer_id == merged_id]
    plan = plan_conversations(survivor_active, merged_active)

    if plan.archive is not None:
        # Archived and handed over in one statement: the one-active-conversation index never
        # sees two active conversations for the survivor.
        await session.execute(
            update(conversations)
            .where(conversations.c.id == plan.archive)
            .values(status="archived", customer_id=survivor_id, merged_from_customer_id=merged_id)
        )
    await session.execute(
        update(conversations)
        .where(conversations.c.account_id == account_id, conversations.c.customer_id == merged_id)
        # A conversation archived by an earlier merge keeps the name of its first owner.
        .values(
            customer_id=survivor_id,
            merged_from_customer_id=func.coalesce(conversations.c.merged_from_customer_id, merged_id),
        )
    )
    await session.execute(
        update(customer_phones)
        .where(customer_phones.c.account_id == account_id, customer_phones.c.customer_id == merged_id)
        .values(customer_id=survivor_id)
    )
    await session.execute(
        update(customer_notes)
        .where(customer_notes.c.account_id == account_id, customer_notes.c.customer_id == merged_id)
        .values(customer_id=survivor_id)
    )
    # Profiles merged into the merged-away one earlier now point straight at the survivor.
    await session.execute(
        update(customers)
        .where(
            customers.c.account_id == account_id,
            or_(customers.c.id == merged_id, customers.c.merged_into_customer_id == merged_id),
        )
        .values(merged_into_customer_id=survivor_id, updated_at=now)
    )

    surviving_conversation = survivor_active or plan.move_active
    details = {
        "surviving_customer_id": str(survivor_id),
        "merged_customer_id": str(merged_id),
        "phone": phone_e164,
        "archived_conversation_id": str(plan.archive) if plan.archive else None,
        "surviving_conversation_id": str(surviving_conversation) if surviving_conversation else None,
    }
    for conversation_id in {c for c in (plan.archive, surviving_conversation) if c is not None}:
        await _timeline(session, account_id, conversation_id, "merged", details, now)
    if plan.archive is not None:
        await _timeline(session, account_id, plan.archive, "archived", {"reason": "merged", **details}, now)

    await emit_customer_changed(session, account_id, merged_id, "merged")
    event = ConversationMerged(
        account_id=account_id,
        archived_conversation_id=plan.archive,
        surviving_conversation_id=surviving_conversation,
        moved_conversation_ids=moved,
        surviving_customer_id=survivor_id,
        merged_customer_id=merged_id,
        phone_e164=phone_e164,
    )
    await add_event(session, CONVERSATION_MERGED, event, key=event.partition_key)
    log.info("customer profiles merged", account_id=str(account_id), **details)
    return MergeResult(plan.archive, surviving_conversation, moved)


async def _timeline(
    session: AsyncSession, account_id: UUID, conversation_id: UUID, kind: str, data: dict, at: datetime
) -> None:
    await session.execute(
        timeline_events.insert().values(
            id=uuid4(),
            account_id=account_id,
            conversation_id=conversation_id,
            kind=kind,
            data=data,
            created_at=at,
        )
    )
