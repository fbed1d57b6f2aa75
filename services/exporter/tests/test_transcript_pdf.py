"""Transcripts rendered to PDF from routing's pages and read back with a PDF text extractor."""

import http.server
import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from pypdf import PdfReader
from weasyprint import HTML

from exporter.domain.jobs import ExportJob
from exporter.rendering.pdf import NoFetching
from exporter.routing_client import ConversationNotFound
from exporter.usecases.transcript import render_transcript

EXPORTED_AT = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)


def at(day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def job_for(conversation, since=None, until=None, time_zone=None) -> ExportJob:
    return ExportJob(
        id=uuid4(),
        account_id=conversation.account_id,
        requested_by=uuid4(),
        conversation_id=conversation.id,
        since=since,
        until=until,
        time_zone=time_zone,
        status="running",
        attempts=1,
        file_key=None,
        pages=None,
        expires_at=None,
        failed_reason=None,
        created_at=EXPORTED_AT,
        finished_at=None,
    )


async def render(client, job, tmp_path: Path, chunk_size: int = 40, page_size: int = 25):
    target = tmp_path / "out.pdf"
    rendered = await render_transcript(
        client, job, target, tmp_path, chunk_size=chunk_size, page_size=page_size, now=EXPORTED_AT
    )
    reader = PdfReader(target)
    return rendered, [page.extract_text() for page in reader.pages]


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def dealership(routing):
    fake, client = routing
    account_id = uuid4()
    fake.accounts[account_id] = {"name": "Demo Motors", "time_zone": "America/Toronto"}
    conversation = fake.conversation(account_id)
    conversation.message(
        at(1, 14),
        "Is my Civic ready? 🚗",
        attachments=[{"url": "https://m.test/1", "file_name": "invoice.pdf"}],
    )
    conversation.event(at(1, 15), "assigned", "Alex Admin", assignee_name="Sam Agent")
    conversation.event(at(1, 15, 5), "note", "Alex Admin", body="Customer prefers French")
    conversation.message(
        at(2, 13), "Oui, elle est prête. Ça coûte 120 $", direction="outbound", sender="Sam Agent"
    )
    conversation.message(
        at(3, 16), "Merci! " + "W" * 400, attachments=[{"url": "https://m.test/media/photo.jpg"}]
    )
    conversation.event(at(4, 9), "closed", "Sam Agent", previous_status="open")
    conversation.message(at(5, 10), "One more question after the range")
    return fake, client, conversation


async def test_whole_conversation_shows_every_message_event_note_and_file_name(dealership, tmp_path):
    _, client, conversation = dealership
    rendered, pages = await render(client, job_for(conversation), tmp_path)
    text = flat("\n".join(pages))
    assert rendered.entries == 7
    for expected in (
        "Demo Motors",
        "Émilie Tremblay (+15145550199)",
        "Period 2026-11-01 to 2026-11-25",  # from the first message to the export, Toronto time
        "Times in America/Toronto",
        "2026-11-01 09:00 · Inbound · Customer · SMS",  # 14:00 UTC in Toronto (EST from 1 Nov)
        "Is my Civic ready? [automobile]",
        "Attachment: invoice.pdf",
        "Assigned to Sam Agent by Alex Admin",
        "Internal note · Alex Admin",
        "Customer prefers French",
        "Outbound · Sam Agent · Staff reply",
        "Oui, elle est prête. Ça coûte 120 $",
        "Attachment: photo.jpg",
        "Closed by Sam Agent",
        "One more question after the range",
    ):
        assert expected in text, expected
    assert "https://m.test" not in text


async def test_date_range_keeps_only_what_is_inside_it(dealership, tmp_path):
    _, client, conversation = dealership
    job = job_for(conversation, since=at(2, 0), until=at(3, 23, 59))
    rendered, pages = await render(client, job, tmp_path)
    text = flat("\n".join(pages))
    assert rendered.entries == 2
    assert "Period 2026-11-01 to 2026-11-03" in text  # since is 2 Nov 00:00 UTC = 1 Nov in Toronto
    assert "Oui, elle est prête" in text and "Attachment: photo.jpg" in text
    for outside in (
        "Is my Civic ready",
        "invoice.pdf",
        "Customer prefers French",
        "Closed by",
        "One more question",
    ):
        assert outside not in text, outside


async def test_long_words_wrap_inside_the_page(dealership, tmp_path):
    _, client, conversation = dealership
    _, pages = await render(client, job_for(conversation), tmp_path)
    lines = [line for page in pages for line in page.splitlines() if "WWWW" in line]
    assert len(lines) >= 3, "a 400-character word must wrap onto several lines"
    assert sum(line.count("W") for line in lines) == 400


async def test_header_and_page_number_on_every_page_across_chunks(routing, tmp_path):
    fake, client = routing
    conversation = fake.conversation(uuid4(), customer_name=None)
    for i in range(150):
        conversation.message(at(1) + timedelta(minutes=i), f"Message number {i} " + "lorem ipsum " * 20)
    rendered, pages = await render(
        client, job_for(conversation, time_zone="Europe/Paris"), tmp_path, chunk_size=50
    )
    assert rendered.entries == 150 and rendered.pages == len(pages) > 3
    for number, text in enumerate(pages, start=1):
        # No account settings from routing: no dealership name, the requester's zone.
        assert "Conversation transcript" in text and "+15145550199" in text, number
        assert f"Page {number}" in text, number
    text = flat("\n".join(pages))
    assert "Times in Europe/Paris" in text and "2026-11-01 13:00" in text
    numbers = [int(n) for n in re.findall(r"Message number (\d+)", text)]
    assert numbers == list(range(150)), "every message once, in order, across the joined chunks"
    assert fake.max_page_size_seen == 25


async def test_empty_range_still_renders_a_page_that_says_so(dealership, tmp_path):
    _, client, conversation = dealership
    rendered, pages = await render(client, job_for(conversation, since=at(20), until=at(21)), tmp_path)
    assert rendered.entries == 0 and rendered.pages == 1
    assert "No messages in this period." in pages[0]


async def test_a_conversation_of_another_account_is_not_found(routing, tmp_path):
    fake, client = routing
    conversation = fake.conversation(uuid4())
    job = job_for(conversation)
    stranger = ExportJob(**{**job.__dict__, "account_id": uuid4()})
    with pytest.raises(ConversationNotFound):
        await render(client, stranger, tmp_path)


def test_the_renderer_fetches_no_url():
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        html = (
            f'<link rel="stylesheet" href="{base}/style.css"><p>hi</p><img src="{base}/photo.jpg">'
            f'<p style="background: url({base}/bg.png)">x</p>'
        )
        HTML(string=html, url_fetcher=NoFetching()).write_pdf()
    finally:
        server.shutdown()
    assert hits == []


async def test_ten_thousand_messages_render(routing, tmp_path):
    """The size the issue names, in chunks of 500 (memory and speed: bench/export.py)."""
    fake, client = routing
    conversation = fake.conversation(uuid4())
    for i in range(10_000):
        conversation.message(at(1) + timedelta(seconds=30 * i), f"Message {i}: is the car ready yet?")
    target = tmp_path / "big.pdf"
    rendered = await render_transcript(
        client, job_for(conversation), target, tmp_path, chunk_size=500, page_size=500, now=EXPORTED_AT
    )
    reader = PdfReader(target)
    assert rendered.entries == 10_000 and len(reader.pages) == rendered.pages
    first, last = reader.pages[0].extract_text(), reader.pages[-1].extract_text()
    assert "Message 0:" in first and "Message 9999:" in last
    assert f"Page {rendered.pages}" in last
