from pydantic import Field

from shared.settings import ServiceSettings


class SearchSettings(ServiceSettings):
    service_name: str = "search"
    http_port: int = 8084
    # Kafka consumers per topic in one process, each owning some partitions (order per partition
    # is kept): indexing is mostly waiting on Postgres, so a few keep up with bursts.
    consumer_workers: int = Field(3, ge=1, le=32)
