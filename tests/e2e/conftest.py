from pathlib import Path

import pytest

from devtools.processes import SERVICES, ServiceProcess, start_services, stop_services
from shared.testing.ports import free_ports_for


@pytest.fixture(scope="session")
def service_env(database_url: str, kafka_bootstrap: str, topic_prefix: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "KAFKA_TOPIC_PREFIX": topic_prefix,
        "KAFKA_PUBLISH_TIMEOUT_SECONDS": "3",
        "KAFKA_PARTITIONS": "2",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "SHUTDOWN_GRACE_SECONDS": "5",
    }


@pytest.fixture(scope="session")
def services(
    service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, ServiceProcess]:
    log_dir = Path(tmp_path_factory.mktemp("service-logs"))
    ports = free_ports_for(list(SERVICES))
    env = {
        **service_env,
        # exporter reads transcripts from this routing and keeps its PDFs in the test's folder.
        "ROUTING_URL": f"http://127.0.0.1:{ports['routing']}",
        "STORAGE_DIR": str(tmp_path_factory.mktemp("exports")),
    }
    started = start_services(
        env, log_dir, ports, names=["ingest", "routing", "notifier", "search", "exporter"]
    )
    yield started
    stop_services(started)
