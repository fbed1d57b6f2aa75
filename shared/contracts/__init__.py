"""Event contracts: every Kafka payload is one of these pydantic models."""

from shared.contracts.base import Event
from shared.contracts.topics import ALL_TOPICS, TopicSpec, dead_letter_topic

__all__ = ["ALL_TOPICS", "Event", "TopicSpec", "dead_letter_topic"]
