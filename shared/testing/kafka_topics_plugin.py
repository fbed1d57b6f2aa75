"""pytest plugin (`-p shared.testing.kafka_topics_plugin` in pyproject's addopts): at the end of a
test process, the topics whose names begin with a prefix it made (`new_topic_prefix`) are
deleted. Only those: other sessions may be using the same broker at the same time."""

import asyncio
import os
import sys

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from shared.testing.infrastructure import DEFAULT_KAFKA
from shared.testing.topic_prefixes import prefixes_made

_CHUNK = 200


def topics_of(topics: list[str], prefixes: frozenset[str]) -> list[str]:
    return sorted(topic for topic in topics if topic.startswith(tuple(prefixes)))


async def delete_topics_with(bootstrap: str, prefixes: frozenset[str]) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30_000)
    await admin.start()
    try:
        ours = topics_of(await admin.list_topics(), prefixes)
        for start in range(0, len(ours), _CHUNK):
            await admin.delete_topics(ours[start : start + _CHUNK], timeout_ms=30_000)
        return len(ours)
    finally:
        await admin.close()


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    prefixes = prefixes_made()
    if not prefixes:
        return
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", DEFAULT_KAFKA)
    try:
        asyncio.run(asyncio.wait_for(delete_topics_with(bootstrap, prefixes), 60))
    except Exception as exc:  # the broker is down or slow: the topics stay, the results stand
        print(f"\nthe test topics were not deleted: {type(exc).__name__}: {exc}", file=sys.stderr)
