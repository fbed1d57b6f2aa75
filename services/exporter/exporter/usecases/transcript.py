"""Fetches a conversation from routing page by page and renders it chunk by chunk: memory holds
one routing page and one chunk of entries, never the whole conversation."""

import asyncio
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from exporter.domain.jobs import ExportJob
from exporter.domain.transcript import (
    TIME_FORMAT,
    Period,
    TranscriptEntry,
    TranscriptHeader,
    customer_label,
    entry_from_item,
    parse_time,
    period_label,
    time_zone_or_utc,
)
from exporter.rendering.pdf import TranscriptBook
from exporter.routing_client import RoutingClient


@dataclass(frozen=True)
class RenderedTranscript:
    pages: int
    entries: int


async def render_transcript(
    routing: RoutingClient,
    job: ExportJob,
    target: Path,
    workdir: Path,
    *,
    chunk_size: int,
    page_size: int,
    now: datetime,
) -> RenderedTranscript:
    conversation = await routing.conversation(job.account_id, job.conversation_id)
    account = await routing.account_settings(job.account_id) or {}
    zone = time_zone_or_utc(account.get("time_zone") or job.time_zone)
    period = Period(job.since, job.until)

    def header(first: datetime | None) -> TranscriptHeader:
        return TranscriptHeader(
            dealership=account.get("name"),
            customer=customer_label(conversation.get("customer_name"), conversation.get("customer_phone")),
            customer_phone=conversation.get("customer_phone"),
            conversation_status=conversation.get("status"),
            period=period_label(period, first, now, zone),
            time_zone=zone.key,
            exported_at=now.astimezone(zone).strftime(TIME_FORMAT),
        )

    book: TranscriptBook | None = None
    chunk: list[TranscriptEntry] = []
    first: datetime | None = None

    async def flush() -> None:
        nonlocal book, chunk
        if book is None:
            book = TranscriptBook(header(first), workdir)
        # WeasyPrint is CPU-bound and synchronous: off the event loop, so the API stays responsive.
        await asyncio.to_thread(book.add_chunk, chunk)
        chunk = []

    pages = routing.timeline(job.account_id, job.conversation_id, page_size)
    try:
        async for items in pages:
            for item in items:
                at = parse_time(item["created_at"])
                if period.is_over(at):
                    break
                if not period.contains(at) or (entry := entry_from_item(item, zone)) is None:
                    continue
                first = first or at
                chunk.append(entry)
                if len(chunk) >= chunk_size:
                    await flush()
            else:
                continue
            break  # past the end of the period: no need to read further pages
    finally:
        await pages.aclose()
    if chunk or book is None:
        await flush()
    assert book is not None
    page_count = await asyncio.to_thread(book.finish, target)
    return RenderedTranscript(page_count, book.entries)
