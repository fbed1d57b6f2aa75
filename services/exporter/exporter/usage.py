"""What exporter counts for billing: the exports it finished for each dealership in a month
(a PDF made, whether its file has expired since or not) and their pages. One job per export
request (a redelivered `export.requested.v1` finds its job), so nothing is counted twice; failed
exports are not counted."""

from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.http.usage import UsageMonth

USAGE_DESCRIBED = (
    "`exports`: conversation exports finished (the PDF made) in the month, failed ones not counted; "
    "`export_pages`: their pages."
)


def usage_reader(sessions: async_sessionmaker[AsyncSession]):
    async def read(account_id: UUID, month: UsageMonth) -> dict[str, int]:
        async with sessions() as session:
            row = (
                await session.execute(
                    text(
                        "SELECT count(*) AS exports, coalesce(sum(pages), 0) AS pages"
                        " FROM exporter.export_jobs WHERE account_id = :account"
                        " AND status IN ('done', 'expired') AND finished_at >= :start AND finished_at < :end"
                    ),
                    {"account": account_id, "start": month.start, "end": month.end},
                )
            ).one()
        return {"exports": int(row.exports), "export_pages": int(row.pages)}

    return read
