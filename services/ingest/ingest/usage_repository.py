"""What ingest counts for billing: the texts customers sent each dealership, one row per text
keyed by the carrier's message id. A text is counted in the transaction that claims it in
`received_webhooks` (a webhook's group, usecases/claims.py, or a catch-up batch), which commits only
once Kafka acknowledged it: counted exactly when it was accepted, whichever way it came, and never
again for the carrier's retry, a text that came both ways, or a redelivered or replayed event
(nothing reads the topic back to count; that consumer cost ~8 % of ingest's CPU at the inbound
rate, issue 17)."""

from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.contracts.carrier import CarrierInbound
from shared.http.usage import UsageMonth

_COUNT_TEXTS_IN = text(
    "INSERT INTO ingest.usage_texts_in (carrier, message_id, account_id, received_at)"
    " SELECT * FROM unnest(CAST(:carriers AS text[]), CAST(:message_ids AS text[]),"
    " CAST(:accounts AS uuid[]), CAST(:ats AS timestamptz[]))"
    " ON CONFLICT DO NOTHING"
)


async def count_texts_in(session: AsyncSession, texts: list[CarrierInbound]) -> None:
    """Each text counted in the month the customer sent it (a text caught up later keeps its send
    time). One statement for a whole batch of catch-up's; webhooks' texts are counted by their
    group's claim statement."""
    if not texts:
        return
    await session.execute(
        _COUNT_TEXTS_IN,
        {
            "carriers": [t.carrier for t in texts],
            "message_ids": [t.carrier_message_id for t in texts],
            "accounts": [t.account_id for t in texts],
            "ats": [t.received_at for t in texts],
        },
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
