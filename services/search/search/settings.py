from pydantic import Field

from shared.settings import ServiceSettings


class SearchSettings(ServiceSettings):
    service_name: str = "search"
    http_port: int = 8084
    # Kafka consumers of the DMS feed in one process, each owning some partitions (order per
    # partition is kept): a DMS sync's burst is mostly waiting on Postgres, so a few keep up. The
    # other feeds are taken a batch per transaction by one consumer each (consumers/feeds.py).
    consumer_workers: int = Field(3, ge=1, le=32)
    # While events come steadily, a batch waits up to this long for more (shared/kafka/consumer.py:
    # BatchGathering): nobody is waiting on the index the way they wait for a text to appear, so
    # longer than the pipeline's other consumers, for fewer transactions.
    gather_up_to_seconds: float = Field(0.25, ge=0)
    # Staff tokens are checked against routing's users (still active, current role): GET
    # {routing_url}/api/v1/users/{id} with a service token, the answer kept auth_cache_seconds.
    routing_url: str = "http://127.0.0.1:8082"
    auth_cache_seconds: float = 5.0
    auth_timeout_seconds: float = 5.0
    # The projection is small enough to stay in memory: an index lookup costs about what a
    # sequential read does, and the default random_page_cost (4) makes the planner hash whole
    # tables instead. Search plans depend on how common the searched text is, so a generic plan
    # is never reused. Starting parallel workers costs more than any of these statements.
    database_session_settings: dict[str, str] = {
        "random_page_cost": "1.1",
        "plan_cache_mode": "force_custom_plan",
        "max_parallel_workers_per_gather": "0",
    }
