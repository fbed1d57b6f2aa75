"""`python -m search rebuild`: throws the projection away and replays every topic it is built
from, from the beginning, until it has caught up with where the topics ended when it started.

Search is never the only copy of anything: everything in it comes from these topics. The live
consumers may keep running meanwhile; an event both apply is applied once (its event id is
claimed in the same transaction as its writes), and anything newer than the replayed range is
theirs. Results are incomplete until the replay finishes."""

import asyncio
import time
from dataclasses import dataclass, field

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from search.consumers.feeds import FEEDS, Apply, event_id
from search.projection import PROJECTION_TABLES
from shared.db.engine import create_engine, create_session_factory
from shared.db.idempotency import claim_event
from shared.kafka.topics import topic_name
from shared.settings import ServiceSettings

log = structlog.get_logger(__name__)


@dataclass
class RebuildReport:
    applied: int = 0
    duplicates: int = 0
    # Records the live consumer dead-lettered too (they never were in the projection).
    unusable: int = 0
    seconds: float = 0.0
    per_topic: dict[str, int] = field(default_factory=dict)


async def rebuild(settings: ServiceSettings, *, batch_timeout_ms: int = 500) -> RebuildReport:
    engine = create_engine(settings)
    sessions = create_session_factory(engine)
    started = time.perf_counter()
    report = RebuildReport()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=None,  # its own reader: no committed offsets, nothing shared with the live group
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=500,
    )
    try:
        async with sessions.begin() as session:
            await session.execute(text(f"TRUNCATE {', '.join(PROJECTION_TABLES)}"))
        await consumer.start()
        feeds = {
            topic_name(settings, spec.name): (name, spec, apply) for name, (spec, apply) in FEEDS.items()
        }
        partitions = [
            TopicPartition(topic, p)
            for topic in feeds
            for p in sorted(consumer.partitions_for_topic(topic) or await _partitions(consumer, topic))
        ]
        if not partitions:  # no topic exists yet: nothing was ever published
            log.warning("no topics to replay", topics=list(feeds))
            return report
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        # Caught up = every partition read up to where it ended after the truncation.
        ends = await consumer.end_offsets(partitions)
        pending = {tp for tp in partitions if ends[tp] > 0}
        while pending:
            batches = await consumer.getmany(*pending, timeout_ms=batch_timeout_ms)
            async with sessions.begin() as session:
                for tp, records in batches.items():
                    name, spec, apply = feeds[tp.topic]
                    for record in records:
                        if record.offset >= ends[tp]:
                            break
                        await _replay(session, report, name, spec, apply, record.value, tp.topic)
            for tp in list(pending):
                if await consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)
    finally:
        await consumer.stop()
        await engine.dispose()
    report.seconds = time.perf_counter() - started
    log.info("search projection rebuilt", applied=report.applied, seconds=round(report.seconds, 1))
    return report


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    # partitions_for_topic only knows topics the client has metadata for; ask once.
    try:
        await asyncio.wait_for(consumer._client.force_metadata_update(), 10)
    except TimeoutError:
        return set()
    return consumer.partitions_for_topic(topic) or set()


async def _replay(
    session: AsyncSession, report: RebuildReport, name: str, spec, apply: Apply, value: bytes, topic: str
) -> None:
    try:
        event = spec.contract.model_validate_json(value)
    except (ValidationError, ValueError):
        report.unusable += 1
        return
    if await claim_event(session, "search", name, event_id(event)):
        await apply(session, event)
        report.applied += 1
        report.per_topic[topic] = report.per_topic.get(topic, 0) + 1
    else:
        report.duplicates += 1


def run_rebuild(settings: ServiceSettings) -> None:
    report = asyncio.run(rebuild(settings))
    print(
        f"search projection rebuilt: {report.applied} events applied, {report.duplicates} duplicates,"
        f" {report.unusable} unusable, {report.seconds:.1f}s"
    )
    for topic, count in sorted(report.per_topic.items()):
        print(f"  {topic}: {count}")


__all__ = ["RebuildReport", "async_sessionmaker", "rebuild", "run_rebuild"]
