"""Creates the declared topics (and their dead-letter twins) when they are missing."""

import asyncio
import contextlib
import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError

from shared.contracts.topics import all_topic_names
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)


def topic_name(settings: ServiceSettings, name: str) -> str:
    return f"{settings.kafka_topic_prefix}{name}"


async def ensure_topics(settings: ServiceSettings, attempts: int = 30) -> list[str]:
    """Creates every missing topic; returns the names it created. Retries while the broker starts."""
    wanted = [topic_name(settings, name) for name in all_topic_names()]
    for attempt in range(attempts):
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [name for name in wanted if name not in existing]
            if missing:
                await _create(admin, settings, missing)
            return missing
        except KafkaConnectionError:
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(1)
        finally:
            await admin.close()
    return []


async def _create(admin: AIOKafkaAdminClient, settings: ServiceSettings, names: list[str]) -> None:
    new_topics = [
        NewTopic(
            name=name,
            num_partitions=settings.kafka_partitions,
            replication_factor=settings.kafka_replication_factor,
        )
        for name in names
    ]
    # Another replica may have created them first.
    with contextlib.suppress(TopicAlreadyExistsError):
        await admin.create_topics(new_topics)
    log.info("created topics", extra={"topics": names})
