"""notifier's usage rows: written once per message (the message id is the key), read by month."""

from datetime import datetime
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier.domain.segments import Segmentation
from shared.http.usage import UsageMonth


async def sent_text(session: AsyncSession, message_id: UUID) -> tuple[str, bool] | None:
    """(body, with media) of a text notifier was asked to send, or None when it never was."""
    row = (
        await session.execute(
            text(
                "SELECT request->>'body' AS body,"
                " jsonb_array_length(coalesce(request->'attachments', '[]'::jsonb)) > 0 AS with_media"
                " FROM notifier.outbound_messages WHERE message_id = :id"
            ),
            {"id": message_id},
        )
    ).first()
    return (row.body or "", bool(row.with_media)) if row else None


async def count_text_out(
    session: AsyncSession,
    message_id: UUID,
    account_id: UUID,
    sent_at: datetime,
    segmentation: Segmentation,
    with_media: bool,
) -> None:
    await session.execute(
        text(
            "INSERT INTO notifier.usage_texts_out"
            " (message_id, account_id, sent_at, segments, encoding, with_media)"
            " VALUES (:id, :account, :at, :segments, :encoding, :media) ON CONFLICT DO NOTHING"
        ),
        {
            "id": message_id,
            "account": account_id,
            "at": sent_at,
            "segments": segmentation.segments,
            "encoding": segmentation.encoding,
            "media": with_media,
        },
    )


async def count_undelivered(
    session: AsyncSession, message_id: UUID, account_id: UUID, failed_at: datetime, category: str | None
) -> None:
    await session.execute(
        text(
            "INSERT INTO notifier.usage_undelivered (message_id, account_id, failed_at, error_category)"
            " VALUES (:id, :account, :at, :category) ON CONFLICT DO NOTHING"
        ),
        {"id": message_id, "account": account_id, "at": failed_at, "category": category},
    )


def usage_reader(sessions: async_sessionmaker[AsyncSession]):
    async def read(account_id: UUID, month: UsageMonth) -> dict[str, int]:
        params = {"account": account_id, "start": month.start, "end": month.end}
        async with sessions() as session:
            out = (
                await session.execute(
                    text(
                        "SELECT count(*) AS texts, coalesce(sum(segments), 0) AS segments,"
                        " count(*) FILTER (WHERE with_media) AS with_media FROM notifier.usage_texts_out"
                        " WHERE account_id = :account AND sent_at >= :start AND sent_at < :end"
                    ),
                    params,
                )
            ).one()
            undelivered = await session.scalar(
                text(
                    "SELECT count(*) FROM notifier.usage_undelivered"
                    " WHERE account_id = :account AND failed_at >= :start AND failed_at < :end"
                ),
                params,
            )
        return {
            "texts_out": int(out.texts),
            "segments_out": int(out.segments),
            "texts_out_with_media": int(out.with_media),
            "undelivered": int(undelivered or 0),
        }

    return read


USAGE_DESCRIBED = (
    "`texts_out`: texts a carrier accepted from the dealership (each once, whatever the retries); "
    "`segments_out`: their SMS segments (GSM-7: 160, then 153 per part; UCS-2: 70, then 67); "
    "`texts_out_with_media`: those of them sent with attachments (MMS); `undelivered`: texts "
    "that were not delivered (refused when sent, or reported undelivered by the carrier), counted "
    "in the month they failed."
)
