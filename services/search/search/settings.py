from pydantic import Field

from shared.settings import ServiceSettings


class SearchSettings(ServiceSettings):
    service_name: str = "search"
    http_port: int = 8084
    # Kafka consumers per topic in one process, each owning some partitions (order per partition
    # is kept): indexing is mostly waiting on Postgres, so a few keep up with bursts.
    consumer_workers: int = Field(3, ge=1, le=32)
    # Staff tokens are checked against routing's users (still active, current role): GET
    # {routing_url}/api/v1/users/{id} with a service token, the answer kept auth_cache_seconds.
    routing_url: str = "http://127.0.0.1:8082"
    auth_cache_seconds: float = 5.0
    auth_timeout_seconds: float = 5.0
