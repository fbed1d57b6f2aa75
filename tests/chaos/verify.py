"""After a chaos run has settled: what was acknowledged against what is stored, per fault."""

import asyncio
import io
import json
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer
from pypdf import PdfReader

from devtools import demo
from shared.testing.infrastructure import dsn
from tests.chaos.cluster import TOPIC_PREFIX, Cluster
from tests.chaos.faults import export_outcome, request_export
from tests.chaos.streams import ResumingStream
from tests.chaos.traffic import Traffic


@dataclass
class Row:
    fault: str
    texts_in: int = 0
    stored: int = 0
    lost: int = 0
    duplicated: int = 0
    longest_delay: float = 0.0
    refused: int = 0
    replies: int = 0
    replies_sent_once: int = 0


@dataclass
class Findings:
    rows: list[Row]
    lost_texts: list[str] = field(default_factory=list)
    duplicated_texts: list[str] = field(default_factory=list)
    misfiled_texts: list[str] = field(default_factory=list)
    # Texts a customer sent after an earlier one was acknowledged, yet placed before it.
    out_of_order: list[str] = field(default_factory=list)
    replies_lost: list[str] = field(default_factory=list)
    replies_doubled: list[str] = field(default_factory=list)
    notifications_expected: int = 0
    notification_problems: list[str] = field(default_factory=list)
    search_missing: int = 0
    search_extra: int = 0
    poison_dead_lettered: list[str] = field(default_factory=list)
    poison_missing: list[str] = field(default_factory=list)
    emails_sent: int = 0
    email_problems: list[str] = field(default_factory=list)
    export_checks: list[tuple[str, bool, str]] = field(default_factory=list)
    # Dead letters other than the poison events, per topic, with a reason each.
    dead_letters: dict[str, list[str]] = field(default_factory=dict)

    def failures(self) -> list[str]:
        problems = []
        for name in (
            "lost_texts",
            "duplicated_texts",
            "misfiled_texts",
            "out_of_order",
            "replies_lost",
            "replies_doubled",
        ):
            values = getattr(self, name)
            if values:
                problems.append(f"{name}: {len(values)} (e.g. {values[:3]})")
        problems += self.notification_problems
        problems += self.email_problems
        problems += [f"{what}: {detail}" for what, ok, detail in self.export_checks if not ok]
        if self.search_missing or self.search_extra:
            problems.append(f"search index: {self.search_missing} missing, {self.search_extra} extra")
        for topic, reasons in self.dead_letters.items():
            problems.append(f"dead-lettered on {topic}: {len(reasons)} (e.g. {reasons[:2]})")
        if self.poison_missing:
            problems.append(f"poison events neither dead-lettered nor stored: {self.poison_missing}")
        return problems


def table(rows: list[Row]) -> str:
    header = (
        "fault",
        "texts in",
        "stored",
        "lost",
        "duplicated",
        "longest delay",
        "refused",
        "replies",
        "sent once",
    )
    lines = [header] + [
        (
            r.fault,
            str(r.texts_in),
            str(r.stored),
            str(r.lost),
            str(r.duplicated),
            f"{r.longest_delay:.1f} s",
            str(r.refused),
            str(r.replies),
            str(r.replies_sent_once),
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for index, line in enumerate(lines):
        cells = [cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(line)]
        out.append("| " + " | ".join(cells) + " |")
        if index == 0:
            out.append(
                "|"
                + "|".join("-" * (w + 2) if i == 0 else "-" * (w + 1) + ":" for i, w in enumerate(widths))
                + "|"
            )
    return "\n".join(out)


async def settle(traffic: Traffic, timeout: float) -> None:
    """Until every acknowledged text is stored, or `timeout`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if all(t.seen_at is not None for t in traffic.texts if t.acked):
            return
        await asyncio.sleep(1)


async def check(
    cluster: Cluster, traffic: Traffic, streams: list[ResumingStream], phases: list[str]
) -> Findings:
    connection = await asyncpg.connect(dsn(cluster.infra.database_url))
    try:
        findings = Findings(rows=[])
        by_phase = {phase: Row(phase) for phase in phases}
        await _texts(connection, traffic, by_phase, findings)
        await _replies(cluster, connection, traffic, by_phase, findings)
        findings.rows = list(by_phase.values())
        await _notifications(connection, streams, findings)
        await _search(connection, findings)
        await _dead_letters(cluster, connection, findings)
        await _emails(cluster, connection, findings)
        findings.export_checks = [*cluster.export_checks, await _export_agrees(cluster, connection)]
    finally:
        await connection.close()
    return findings


async def _texts(connection, traffic: Traffic, by_phase: dict[str, Row], findings: Findings) -> None:
    acked = [t for t in traffic.texts if t.acked]
    rows = await connection.fetch(
        "SELECT m.carrier_message_id, m.body, p.e164, m.created_at FROM routing.messages m"
        " JOIN routing.conversations c ON c.id = m.conversation_id"
        " JOIN routing.customer_phones p ON p.customer_id = c.customer_id"
        " WHERE m.account_id = $1 AND m.carrier_message_id = ANY($2::text[])",
        demo.ACCOUNT_ID,
        [t.carrier_id for t in acked],
    )
    copies = Counter(row["carrier_message_id"] for row in rows)
    phones_of = {}
    for row in rows:
        phones_of.setdefault(row["carrier_message_id"], set()).add(row["e164"])
    for text in traffic.texts:
        row = by_phase.setdefault(text.phase, Row(text.phase))
        if not text.acked:
            row.refused += 1
            continue
        row.texts_in += 1
        count = copies.get(text.carrier_id, 0)
        if count == 0:
            row.lost += 1
            findings.lost_texts.append(f"{text.carrier} {text.carrier_id} ({text.phase})")
            continue
        row.stored += 1
        # A customer may have several phones: one row per phone; one message all the same.
        phones = phones_of[text.carrier_id]
        if count > len(phones):
            row.duplicated += 1
            findings.duplicated_texts.append(text.carrier_id)
        if text.phone not in phones:
            findings.misfiled_texts.append(text.carrier_id)
        if text.seen_at is not None:
            row.longest_delay = max(row.longest_delay, text.seen_at - text.acked_at)
    placed_at = {row["carrier_message_id"]: row["created_at"].timestamp() for row in rows}
    findings.out_of_order = out_of_order([t for t in acked if t.carrier_id in placed_at], placed_at)


def out_of_order(acked: list, placed_at: dict[str, float]) -> list[str]:
    """Ordering per conversation, as a customer sees it: a text sent after an earlier text of the
    same customer was acknowledged must come after it in the timeline (which is ordered by when
    the carrier received each text). Texts in flight together have no order to keep."""
    problems = []
    by_phone: dict[str, list] = {}
    for text in acked:
        by_phone.setdefault(text.phone, []).append(text)
    for texts in by_phone.values():
        by_ack = sorted(texts, key=lambda t: t.acked_at)
        latest, latest_id, index = float("-inf"), "", 0
        for text in sorted(texts, key=lambda t: t.sent_at):
            while index < len(by_ack) and by_ack[index].acked_at < text.sent_at:
                earlier = by_ack[index]
                if placed_at[earlier.carrier_id] > latest:
                    latest, latest_id = placed_at[earlier.carrier_id], earlier.carrier_id
                index += 1
            if placed_at[text.carrier_id] < latest:
                problems.append(f"{text.carrier_id} placed before {latest_id} ({text.phase})")
    return problems


async def _replies(
    cluster: Cluster, connection, traffic: Traffic, by_phase: dict[str, Row], findings: Findings
) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        sent = (await client.get(f"{cluster.simulator.url}/simulate/sent")).json()
    delivered = Counter(record["body"] for record in sent if 200 <= record["http_status"] < 300)
    for reply in traffic.replies:
        if not reply.accepted:
            continue
        row = by_phase.setdefault(reply.phase, Row(reply.phase))
        row.replies += 1
        count = delivered.get(reply.body, 0)
        if count == 1:
            row.replies_sent_once += 1
        elif count == 0:
            findings.replies_lost.append(
                f"{reply.body} ({reply.phase}; {await _fate(connection, reply.body)})"
            )
        else:
            findings.replies_doubled.append(f"{reply.body} x{count} ({reply.phase})")


async def _fate(connection, body: str) -> str:
    """Where a reply that never reached the carrier stopped: routing's row, notifier's."""
    rows = await connection.fetch(
        "SELECT m.id, m.status, m.error_category, o.status AS sending, o.attempts, o.error_message,"
        " o.lease_until, now() AS checked_at"
        " FROM routing.messages m LEFT JOIN notifier.outbound_messages o ON o.message_id = m.id"
        " WHERE m.body = $1",
        body,
    )
    return "; ".join(str(dict(row)) for row in rows) or "not in routing"


async def _notifications(connection, streams: list[ResumingStream], findings: Findings) -> None:
    ids = [
        row["id"]
        for row in await connection.fetch(
            "SELECT id FROM notifier.notifications WHERE user_id = $1 ORDER BY id", demo.ADMIN_ID
        )
    ]
    findings.notifications_expected = len(ids)
    if not ids:
        findings.notification_problems.append("no notification at all for the admin")
    for index, stream in enumerate(streams):
        received = Counter(stream.received)
        twice = [i for i, n in received.items() if n > 1]
        missing = sorted(set(ids) - set(received))
        if twice:
            findings.notification_problems.append(f"stream {index}: {len(twice)} notifications twice")
        if missing:
            findings.notification_problems.append(
                f"stream {index}: {len(missing)} of {len(ids)} never arrived (e.g. {missing[:3]})"
            )
        if getattr(stream, "resyncs", 0):
            findings.notification_problems.append(f"stream {index}: told to reload {stream.resyncs} times")


async def _export_agrees(cluster: Cluster, connection) -> tuple[str, bool, str]:
    """The conversation staff replied in, exported once the run has settled: its PDF holds every
    message routing stored for it."""
    conversation_id = cluster.conversation_ids[0]
    bodies = [
        row["body"]
        for row in await connection.fetch(
            "SELECT body FROM routing.messages WHERE conversation_id = $1", uuid.UUID(conversation_id)
        )
    ]
    what = f"export after the run ({len(bodies)} messages)"
    job = await export_outcome(cluster, await request_export(cluster))
    if job.get("status") != "done" or not job.get("download_url"):
        return what, False, f"export {job.get('status')}: {job.get('failed_reason')}"
    # The link names the exporter's public address; any replica serves it.
    link = urlsplit(job["download_url"])
    async with httpx.AsyncClient(timeout=30) as client:
        pdf = await client.get(f"{cluster.urls('exporter')[0]}{link.path}?{link.query}")
    if pdf.status_code != 200:
        return what, False, f"download answered {pdf.status_code}"
    text = re.sub(
        r"\s+", "", "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    )
    missing = [body for body in bodies if re.sub(r"\s+", "", body) not in text]
    return (
        what,
        not missing,
        f"{len(bodies) - len(missing)} of {len(bodies)} in the PDF"
        + (f" (missing e.g. {missing[:2]})" if missing else ""),
    )


async def _emails(cluster: Cluster, connection, findings: Findings) -> None:
    """Every e-mail notifier queued was sent, once, to the SMTP server (down for a while)."""
    rows = await connection.fetch("SELECT id, status, attempts, last_error FROM notifier.email_outbox")
    unsent = [dict(row) for row in rows if row["status"] != "sent"]
    findings.emails_sent = len(rows) - len(unsent)
    if unsent:
        findings.email_problems.append(f"{len(unsent)} e-mails not sent (e.g. {unsent[:2]})")
    delivered = len(list((cluster.work_dir / "mail").glob("*.eml")))
    if delivered != findings.emails_sent:
        findings.email_problems.append(f"{findings.emails_sent} e-mails sent, {delivered} at the SMTP server")


async def _search(connection, findings: Findings) -> None:
    routing = {
        (row["id"], row["conversation_id"])
        for row in await connection.fetch(
            "SELECT id, conversation_id FROM routing.messages WHERE account_id = $1", demo.ACCOUNT_ID
        )
    }
    indexed = {
        (row["message_id"], row["conversation_id"])
        for row in await connection.fetch(
            "SELECT message_id, conversation_id FROM search.messages WHERE account_id = $1", demo.ACCOUNT_ID
        )
    }
    findings.search_missing = len(routing - indexed)
    findings.search_extra = len(indexed - routing)


async def _dead_letters(cluster: Cluster, connection, findings: Findings) -> None:
    """Every dead-letter topic read from the start: the poison events are expected there, with
    their reason; anything else there is a message the system gave up on."""
    wanted = set(cluster.poison)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=cluster.infra.kafka_bootstrap,
        auto_offset_reset="earliest",
        group_id=f"chaos-check-{uuid.uuid4()}",
        metadata_max_age_ms=1000,
    )
    await consumer.start()
    try:
        consumer.subscribe(pattern=f"^{re.escape(TOPIC_PREFIX)}.*\\.dlq$")
        quiet_since = asyncio.get_running_loop().time()
        deadline = quiet_since + 30
        while asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=1000)
            if not batch and asyncio.get_running_loop().time() - quiet_since > 8:
                break
            for records in batch.values():
                quiet_since = asyncio.get_running_loop().time()
                for record in records:
                    _dead_letter_seen(record, wanted, findings)
    finally:
        await consumer.stop()
    stored = {
        row["carrier_message_id"]
        for row in await connection.fetch(
            "SELECT carrier_message_id FROM routing.messages WHERE carrier_message_id = ANY($1::text[])",
            list(wanted),
        )
    }
    findings.poison_missing = sorted(wanted - set(findings.poison_dead_lettered) - stored)


def _dead_letter_seen(record, poison: set[str], findings: Findings) -> None:
    headers = {key: value.decode(errors="replace") for key, value in record.headers or ()}
    try:
        carrier_id = json.loads(record.value).get("carrier_message_id")
    except (ValueError, AttributeError):
        carrier_id = None
    if carrier_id in poison:
        findings.poison_dead_lettered.append(carrier_id)
        return
    findings.dead_letters.setdefault(record.topic, []).append(headers.get("x-dead-letter-reason", "")[:200])
