"""Conversation export to PDF at 100, 1,000 and 10,000 messages: seconds, peak memory and pages
per second of exporter's whole job — reading the timeline page by page over HTTP, rendering
chunk by chunk with WeasyPrint, joining the chunks — each size in a fresh process so its peak
resident memory (VmHWM) is its own.

Routing's side is a stand-in served in-process from memory (the same JSON routing answers), so
the figures are exporter's cost, not routing's query time.

.venv/bin/python bench/export.py [--sizes 100,1000,10000] [--chunk-size 400]
"""

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import httpx
from fastapi import FastAPI

from exporter.domain.jobs import ExportJob
from exporter.routing_client import RoutingClient
from exporter.settings import ExporterSettings
from exporter.usecases.transcript import render_transcript

ACCOUNT = UUID("00000000-0000-0000-0000-00000000e001")
BODIES = (
    "Hi, is my car ready?",
    "Bonjour, est-ce que ma voiture est prête? Merci beaucoup 🚗",
    "Your 2019 Civic is ready for pickup. The total is $412.35 including the oil change, the tire "
    "rotation and the cabin filter we talked about this morning.",
    "Can I come at 5:30? I finish work at 5 and the dealership is 20 minutes away from the office.",
    "Thanks!",
)


def timeline(messages: int) -> list[dict]:
    start = datetime(2026, 1, 5, 14, 0, tzinfo=UTC)
    items = []
    for i in range(messages):
        at = (start + timedelta(minutes=7 * i)).isoformat()
        outbound = i % 3 == 1
        items.append(
            {
                "id": str(uuid4()),
                "kind": "message",
                "created_at": at,
                "actor_user_id": None,
                "actor_name": "Sam Agent" if outbound else None,
                "data": None,
                "message": {
                    "direction": "outbound" if outbound else "inbound",
                    "body": f"{BODIES[i % len(BODIES)]} (#{i})",
                    "attachments": [{"url": "https://media.test/x", "file_name": f"photo-{i}.jpg"}]
                    if i % 25 == 0
                    else [],
                    "source_kind": "manual",
                    "status": "delivered" if outbound else "received",
                },
            }
        )
        if i % 50 == 49:
            items.append(
                {
                    "id": str(uuid4()),
                    "kind": "assigned",
                    "created_at": at,
                    "actor_user_id": None,
                    "actor_name": "Alex Admin",
                    "data": {"assignee_name": "Service"},
                }
            )
    return items


def stand_in_routing(items: list[dict], conversation_id: UUID) -> FastAPI:
    app = FastAPI()

    @app.get("/api/v1/account/settings")
    async def account_settings():
        return {"name": "Demo Motors", "time_zone": "America/Toronto"}

    @app.get("/api/v1/conversations/{cid}")
    async def conversation(cid: UUID):
        return {"id": str(cid), "customer_name": "Émilie Tremblay", "customer_phone": "+15145550199"}

    @app.get("/api/v1/conversations/{cid}/timeline")
    async def page(cid: UUID, limit: int = 100, cursor: str | None = None):
        start = int(cursor or 0)
        more = start + limit < len(items)
        return {"items": items[start : start + limit], "next_cursor": str(start + limit) if more else None}

    return app


def _high_water_kb() -> int:
    """Peak resident memory of this process image (VmHWM). Not ru_maxrss: Linux carries that
    across fork and exec, so a child of a large parent (run_all.py) reported the parent's size."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


async def export_once(messages: int, chunk_size: int) -> dict:
    settings = ExporterSettings()
    conversation_id = uuid4()
    app = stand_in_routing(timeline(messages), conversation_id)
    job = ExportJob(
        uuid4(), ACCOUNT, uuid4(), conversation_id, None, None, None, "running", 1, None, None, None, None,
        datetime.now(UTC), None,
    )  # fmt: skip
    before = _high_water_kb()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://routing") as http:
        with tempfile.TemporaryDirectory() as workdir:
            target = Path(workdir) / "out.pdf"
            started = time.perf_counter()
            rendered = await render_transcript(
                RoutingClient(http, settings),
                job,
                target,
                Path(workdir),
                chunk_size=chunk_size,
                page_size=settings.routing_page_size,
                now=datetime.now(UTC),
            )
            seconds = time.perf_counter() - started
            size = target.stat().st_size
    peak = _high_water_kb()
    return {
        "messages": messages,
        "entries": rendered.entries,
        "pages": rendered.pages,
        "seconds": seconds,
        "pages_per_s": rendered.pages / seconds,
        "peak_rss_mb": peak / 1024,
        "rss_before_mb": before / 1024,
        "pdf_kb": size / 1024,
    }


def run(sizes: tuple[int, ...] = (100, 1000, 10000), chunk_size: int | None = None) -> list[dict]:
    chunk_size = chunk_size or ExporterSettings().render_chunk_size
    rows = []
    for size in sizes:
        # A fresh interpreter per size: the high-water mark is the whole process's.
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(size), "--chunk-size", str(chunk_size)],
            capture_output=True,
            text=True,
            check=True,
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), file=sys.stderr)
    print(f"\n== exporter: conversation to PDF, chunks of {chunk_size} entries ==")
    heads = ("messages", "pages", "seconds", "pages/s", "peak RSS MB", "before MB", "PDF KB")
    print(
        "  "
        + " ".join(f"{head:>{width}}" for head, width in zip(heads, (8, 6, 8, 8, 12, 10, 8), strict=True))
    )
    for r in rows:
        print(
            f"  {r['messages']:>8} {r['pages']:>6} {r['seconds']:>8.2f} {r['pages_per_s']:>8.1f}"
            f" {r['peak_rss_mb']:>12.0f} {r['rss_before_mb']:>10.0f} {r['pdf_kb']:>8.0f}"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--chunk-size", type=int, default=ExporterSettings().render_chunk_size)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(asyncio.run(export_once(args.one, args.chunk_size))))
        return
    run(tuple(int(s) for s in args.sizes.split(",")), args.chunk_size)


if __name__ == "__main__":
    main()
