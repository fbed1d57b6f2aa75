"""What ingest counts for billing: the texts customers sent each dealership, one row per text
read back from `carrier.inbound.v1` (whether a webhook or catch-up brought it), keyed by the
carrier's message id, so a redelivered event or a replayed topic counts it once."""

from datetime import datetime
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.http.usage import UsageMonth


async def count_text_in(
    session: AsyncSession, account_id: UUID, carrier: str, message_id: str, received_at: datetime
) -> None:
    """Counted in the month the customer sent it (a text caught up later keeps its send time)."""
    await session.execute(
        text(
            "INSERT INTO ingest.usage_texts_in (carrier, message_id, account_id, received_at)"
            " VALUES (:carrier, :message_id, :account, :at) ON CONFLICT DO NOTHING"
        ),
        {"carrier": carrier, "message_id": message_id, "account": account_id, "at": received_at},
    )


def usage_reader(sessions: async_sessionmaker[AsyncSession]):
    async def read(account_id: UUID, month: UsageMonth) -> dict[str, int]:
        async with sessions() as session:
            texts_in = await session.scalar(
                text(
                    "SELECT count(*) FROM ingest.usage_texts_in WHERE account_id = :account"
                    " AND received_at >= :start AND received_at < :end"
                ),
                {"account": account_id, "start": month.start, "end": month.end},
            )
        return {"texts_in": int(texts_in or 0)}

    return read


USAGE_DESCRIBED = (
    "`texts_in`: texts customers sent the dealership's numbers that ingest received (by webhook or "
    "catch-up from the carrier's API), each counted once however often the carrier delivered it."
)
