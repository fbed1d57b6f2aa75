"""A whole Switchboard of the chaos run's own: its own PostgreSQL and Kafka (started by the
project's infra scripts in a state folder of their own, on free ports), two replicas of each
service, the carrier simulator and an SMTP sink. The run may kill any of them; nothing here is
shared with the rest of the test suite, whose PostgreSQL and Kafka are never touched."""

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from devtools.migrate import migrate_all
from devtools.processes import ServiceProcess
from devtools.seed import seed_demo
from shared.kafka.topics import ensure_topics
from shared.settings import ServiceSettings
from shared.testing.infrastructure import ROOT, dsn
from shared.testing.ports import free_ports

# Every service scales out (a run says how many replicas of each); web holds no state of its own
# and relays the staff's live streams.
REPLICATED = ("ingest", "routing", "notifier", "search", "exporter", "web")
TOPIC_PREFIX = "chaos."
KAFKA_PARTITIONS = 4
SEND_LEASE_SECONDS = 60
HANDLER_RETRY_SECONDS = 5
# Variables that would point the infra scripts (or the services) at another clone's servers.
_FOREIGN = ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS")


@dataclass
class Infrastructure:
    """PostgreSQL and Kafka through infra/postgres.sh and infra/kafka.sh, in `state_dir`."""

    state_dir: Path
    pg_port: int
    kafka_port: int
    controller_port: int

    @property
    def database_url(self) -> str:
        return f"postgresql+asyncpg://switchboard:switchboard@127.0.0.1:{self.pg_port}/switchboard"

    @property
    def kafka_bootstrap(self) -> str:
        return f"localhost:{self.kafka_port}"

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _FOREIGN}
        env.update(
            SWITCHBOARD_STATE_DIR=str(self.state_dir),
            SWITCHBOARD_PG_PORT=str(self.pg_port),
            SWITCHBOARD_KAFKA_PORT=str(self.kafka_port),
            SWITCHBOARD_KAFKA_CONTROLLER_PORT=str(self.controller_port),
        )
        return env

    def script(self, name: str, *args: str) -> str:
        done = subprocess.run(
            ["bash", str(ROOT / "infra" / name), *args],
            env=self._env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"infra/{name} {' '.join(args)} failed: {done.stderr[-2000:]}")
        return done.stdout.strip()

    def start(self) -> None:
        # The Kafka jars this clone already resolved (no Maven run per chaos run).
        jars = subprocess.run(
            ["bash", str(ROOT / "infra/kafka.sh"), "jars"], capture_output=True, text=True, check=True
        ).stdout.strip()
        (self.state_dir / "kafka").mkdir(parents=True, exist_ok=True)
        (self.state_dir / "kafka" / "libs").symlink_to(jars)
        self.start_postgres()
        self.start_kafka()

    def start_postgres(self) -> None:
        self.script("postgres.sh", "start")

    def start_kafka(self) -> None:
        self.script("kafka.sh", "start")

    def kill_kafka(self) -> None:
        """SIGKILL to the broker: no clean shutdown, no flush."""
        pid = int((self.state_dir / "kafka" / "kafka.pid").read_text())
        os.kill(pid, signal.SIGKILL)
        _wait_gone(pid)

    def kill_postgres(self) -> None:
        """`pg_ctl stop -m immediate`: every backend dies at once, recovery at the next start."""
        data = Path(self.script("postgres.sh", "dir")) / "data"
        pg_ctl = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))[-1]
        command = [str(pg_ctl), "-D", str(data), "stop", "-m", "immediate", "-w"]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, capture_output=True, check=True)

    def stop(self) -> None:
        for name, what in (("kafka.sh", "stop"), ("postgres.sh", "remove")):
            try:
                self.script(name, what)
            except RuntimeError as exc:
                print(exc, file=sys.stderr)


def _wait_gone(pid: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


@dataclass
class Replica:
    label: str  # "routing-2"
    process: ServiceProcess

    @property
    def url(self) -> str:
        return self.process.url

    def kill(self) -> None:
        if self.process.process and self.process.process.poll() is None:
            self.process.process.kill()
            self.process.process.wait()

    def restart(self) -> None:
        self.process.start()


@dataclass
class Helper:
    """A devtools process (the carrier simulator, the SMTP sink) the run may stop and start."""

    label: str
    command: list[str]
    port: int
    log_path: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, stdout=self.log_path.open("ab"), stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while not _port_open(self.port):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"{self.label} did not start; see {self.log_path}")
            time.sleep(0.1)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _port_open(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Cluster:
    infra: Infrastructure
    work_dir: Path
    replicas: dict[str, list[Replica]] = field(default_factory=dict)
    simulator: Helper | None = None
    smtp: Helper | None = None
    exports_dir: Path | None = None
    # carrier ids of the poison events the run published
    poison: list[str] = field(default_factory=list)
    # Set by the run: a staff token and conversations to export.
    staff_token: str = ""
    conversation_ids: list[str] = field(default_factory=list)
    # What the export faults saw: (what, as expected, detail).
    export_checks: list[tuple[str, bool, str]] = field(default_factory=list)

    def urls(self, service: str) -> list[str]:
        return [replica.url for replica in self.replicas[service]]

    def replica(self, label: str) -> Replica:
        name, _, number = label.rpartition("-")
        return self.replicas[name][int(number) - 1]

    async def wait_ready(self, replicas: list[Replica], timeout: float = 600.0) -> None:
        """Every replica answers /readyz (a service whose database or broker is still down may
        keep exiting at start: it is started again, as Kubernetes would)."""
        deadline = time.monotonic() + timeout
        pending = list(replicas)
        # A busy machine answers slowly: a slow /readyz is not a "no".
        async with httpx.AsyncClient(timeout=15) as client:
            while pending:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"not ready: {[r.label for r in pending]}")
                for replica in list(pending):
                    popen = replica.process.process
                    if popen is not None and popen.poll() is not None:
                        replica.restart()
                        continue
                    try:
                        response = await client.get(f"{replica.url}/readyz")
                    except httpx.HTTPError:
                        continue
                    if response.status_code == 200:
                        pending.remove(replica)
                await asyncio.sleep(0.3)

    def all_replicas(self) -> list[Replica]:
        return [replica for group in self.replicas.values() for replica in group]

    def stop(self) -> None:
        if self.exports_dir and os.path.ismount(self.exports_dir):  # a run cut short mid full-disk
            subprocess.run(["umount", "-l", str(self.exports_dir)], capture_output=True, check=False)
        for replica in self.all_replicas():
            replica.process.stop(timeout=10)
        for helper in (self.simulator, self.smtp):
            if helper:
                helper.kill()
        self.infra.stop()


async def _durable_commits(database_url: str) -> None:
    """infra/postgres.sh runs PostgreSQL with synchronous_commit off (fast tests): a crash then
    loses the last commits, an accepted reply among them (a chaos run saw one vanish). A real
    deployment keeps the default, on; so does the chaos cluster, whose PostgreSQL is crashed."""
    connection = await asyncpg.connect(dsn(database_url))
    try:
        await connection.execute("ALTER SYSTEM SET synchronous_commit = 'on'")
        await connection.execute("SELECT pg_reload_conf()")
    finally:
        await connection.close()


async def start_cluster(replicas: dict[str, int], work_dir: Path | None = None) -> Cluster:
    """Everything up, migrated and seeded with the demo dealership; `replicas` says how many of
    each service."""
    work_dir = work_dir or Path(tempfile.mkdtemp(prefix="switchboard-chaos-"))
    # The postgres user must be able to enter the state folder (the cluster lives in it).
    work_dir.chmod(0o755)
    state_dir = work_dir / "state"
    state_dir.mkdir(exist_ok=True)
    state_dir.chmod(0o755)
    pg, kafka, controller, simulator_port, smtp_port, *service_ports = free_ports(5 + sum(replicas.values()))
    infra = Infrastructure(state_dir, pg, kafka, controller)
    cluster = Cluster(infra, work_dir)
    try:
        await asyncio.to_thread(infra.start)
        await _durable_commits(infra.database_url)
        await asyncio.to_thread(migrate_all, infra.database_url)
        await seed_demo(infra.database_url)
        ports = iter(service_ports)
        for name in REPLICATED:
            cluster.replicas[name] = [
                Replica(
                    f"{name}-{n}",
                    ServiceProcess(name, next(ports), {}, work_dir / "logs" / f"{name}-{n}.log"),
                )
                for n in range(1, replicas.get(name, 1) + 1)
            ]
        first = {name: group[0].url for name, group in cluster.replicas.items()}
        cluster.simulator = Helper(
            "simulator",
            [
                sys.executable,
                "-m",
                "devtools.carrier_simulator",
                "serve",
                "--port",
                str(simulator_port),
                "--ingest-url",
                first["ingest"],
                "--callback-delay",
                "0.5",
            ],
            simulator_port,
            work_dir / "logs" / "simulator.log",
        )
        cluster.smtp = Helper(
            "smtp",
            [
                sys.executable,
                "-m",
                "devtools.smtp_sink",
                "--port",
                str(smtp_port),
                "--dir",
                str(work_dir / "mail"),
            ],
            smtp_port,
            work_dir / "logs" / "smtp.log",
        )
        cluster.exports_dir = work_dir / "exports"
        env = {
            "DATABASE_URL": infra.database_url,
            "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap,
            "KAFKA_TOPIC_PREFIX": TOPIC_PREFIX,
            "KAFKA_PARTITIONS": str(KAFKA_PARTITIONS),
            "KAFKA_PUBLISH_TIMEOUT_SECONDS": "3",
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "INFO",
            "SHUTDOWN_GRACE_SECONDS": "3",
            "ROUTING_URL": first["routing"],
            "NOTIFIER_URL": first["notifier"],
            "SEARCH_URL": first["search"],
            "EXPORTER_URL": first["exporter"],
            "INGEST_URL": first["ingest"],
            "TWILIO_API_BASE_URL": cluster.simulator.url,
            "TELNYX_API_BASE_URL": cluster.simulator.url,
            "CARRIER_CALLBACK_BASE_URL": first["ingest"],
            "SMTP_PORT": str(smtp_port),
            "STORAGE_DIR": str(cluster.exports_dir),
            "OUTBOUND_RETRY_INITIAL_SECONDS": "0.2",
            # A text whose sender was killed mid-send is picked up by another replica once the
            # dead one's lease runs out: a minute here instead of five, to see it within the run.
            "OUTBOUND_SEND_LEASE_SECONDS": str(SEND_LEASE_SECONDS),
            # Shorter than PostgreSQL's outage in the run: a handler failing because the database
            # is down must wait it out, not dead-letter the text (it did, before the fix in
            # shared/kafka/consumer.py); the poison event is dead-lettered after this long.
            "KAFKA_HANDLER_RETRY_SECONDS": str(HANDLER_RETRY_SECONDS),
        }
        for replica in cluster.all_replicas():
            replica.process.env = env
        cluster.simulator.start()
        cluster.smtp.start()
        # The topics first, so that every replica can start at once.
        await ensure_topics(
            ServiceSettings(
                kafka_bootstrap_servers=infra.kafka_bootstrap,
                kafka_topic_prefix=TOPIC_PREFIX,
                kafka_partitions=KAFKA_PARTITIONS,
            )
        )
        for replica in cluster.all_replicas():
            replica.restart()
        await cluster.wait_ready(cluster.all_replicas(), timeout=300)
    except BaseException:
        await asyncio.to_thread(cluster.stop)
        raise
    return cluster


def remove(cluster: Cluster, keep_logs_in: Path | None = None) -> None:
    """Stops everything; the service logs are copied to `keep_logs_in` (for a failed run)."""
    cluster.stop()
    if keep_logs_in:
        shutil.rmtree(keep_logs_in, ignore_errors=True)
        shutil.copytree(cluster.work_dir / "logs", keep_logs_in, dirs_exist_ok=True)
    shutil.rmtree(cluster.work_dir, ignore_errors=True)
