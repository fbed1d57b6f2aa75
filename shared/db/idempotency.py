"""Consumers are idempotent on `event_id`: the claim is written in the same transaction as the
effects of handling the event, so a redelivered event finds its claim and changes nothing."""

from uuid import UUID

import sqlalchemy as sa
from alembic import op
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def claim_event(session: AsyncSession, schema: str, consumer: str, event_id: UUID) -> bool:
    """True the first time `consumer` sees `event_id`; False for every redelivery."""
    claimed = await session.execute(
        text(
            f"INSERT INTO {schema}.processed_events (consumer, event_id) VALUES (:consumer, :event_id)"
            " ON CONFLICT DO NOTHING RETURNING 1"
        ),
        {"consumer": consumer, "event_id": event_id},
    )
    return claimed.scalar() is not None


async def claim_events(session: AsyncSession, schema: str, consumer: str, event_ids: list[UUID]) -> set[UUID]:
    """`claim_event` for a batch in one statement: the ids claimed now (an id seen before, or
    twice in the batch after its first time, is not)."""
    if not event_ids:
        return set()
    claimed = await session.execute(
        text(
            f"INSERT INTO {schema}.processed_events (consumer, event_id)"
            " SELECT :consumer, unnest(CAST(:event_ids AS uuid[]))"
            " ON CONFLICT DO NOTHING RETURNING event_id"
        ),
        {"consumer": consumer, "event_ids": event_ids},
    )
    return set(claimed.scalars().all())


def create_processed_events_table(schema: str) -> None:
    """For a service's first migration."""
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.Text, primary_key=True),
        sa.Column("event_id", sa.Uuid, primary_key=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        schema=schema,
    )
