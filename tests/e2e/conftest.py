import secrets
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from devtools.processes import SERVICES, ServiceProcess, start_services, stop_services
from shared.http.operator_auth import hash_operator_token
from shared.testing.ports import free_port, free_ports_for

# The operator token the services accept on /platform/v1 (given to them as its digest only).
OPERATOR_TOKEN = "e2e-operator-" + secrets.token_urlsafe(16)


class Mailbox:
    """Every e-mail notifier sent during the session, parsed (a real SMTP server in-process)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, _server, _session, envelope) -> str:
        self.messages.append(
            message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        )
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address.lower() in str(m["To"]).lower()]


@pytest.fixture(scope="session")
def mailbox() -> Mailbox:
    return Mailbox()


@pytest.fixture(scope="session")
def smtp_port(mailbox: Mailbox):
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port
    controller.stop()


@pytest.fixture(scope="session")
def service_env(database_url: str, kafka_bootstrap: str, topic_prefix: str, smtp_port: int) -> dict[str, str]:
    return {
        "OPERATOR_TOKENS": f"e2e={hash_operator_token(OPERATOR_TOKEN)}",
        "SMTP_PORT": str(smtp_port),
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
