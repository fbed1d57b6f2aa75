"""Kafka topic prefixes for tests, each new, and remembered so that the test process deletes its
topics when it ends (`kafka_topics_plugin`).

The broker keeps files open for every partition: the topics of a few dozen suite runs left on a
developer's broker exceeded its open-file limit and it stopped ("Too many open files")."""

import secrets

_MADE: set[str] = set()


def new_topic_prefix(kind: str) -> str:
    """`<kind><8 hex>.`, deleted with its topics at the end of this test process."""
    prefix = f"{kind}{secrets.token_hex(4)}."
    _MADE.add(prefix)
    return prefix


def prefixes_made() -> frozenset[str]:
    return frozenset(_MADE)
