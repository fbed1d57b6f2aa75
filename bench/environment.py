"""An isolated Switchboard for one benchmark run, built the way tests/conftest.py builds one for a
test session: a fresh database `bench_<hex>` on the local cluster (migrated, seeded with the demo
dealership), a unique Kafka topic prefix, and the chosen services as real processes on free ports.
Everything is torn down on exit: services stopped, the database dropped, the prefix's topics deleted."""

import asyncio
import contextlib
import math
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from devtools.migrate import migrate_all  # noqa: E402
from devtools.processes import ServiceProcess, start_services, stop_services  # noqa: E402
from devtools.seed import seed_demo  # noqa: E402
from shared.testing.ports import free_port, free_ports_for  # noqa: E402

_PG_PORT = os.environ.get("SWITCHBOARD_PG_PORT", "55432")
BASE_DATABASE_URL = os.environ.get(
    "DATABASE_URL", f"postgresql+asyncpg://switchboard:switchboard@127.0.0.1:{_PG_PORT}/switchboard"
)
KAFKA_BOOTSTRAP = os.environ.get(
    "KAFKA_BOOTSTRAP_SERVERS", f"localhost:{os.environ.get('SWITCHBOARD_KAFKA_PORT', '9092')}"
)


def dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass
class BenchEnvironment:
    database_url: str
    topic_prefix: str
    kafka_bootstrap: str
    env: dict[str, str]
    log_dir: Path
    services: dict[str, ServiceProcess]

    def url(self, name: str) -> str:
        return self.services[name].url


async def _admin_sql(sql: str) -> None:
    connection = await asyncpg.connect(dsn(BASE_DATABASE_URL))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def create_topic(bootstrap: str, name: str, partitions: int) -> None:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
    finally:
        await admin.close()


async def _delete_prefixed_topics(bootstrap: str, prefix: str) -> int:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        ours = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if ours:
            await admin.delete_topics(ours)
        return len(ours)
    finally:
        await admin.close()


@contextlib.contextmanager
def scratch_database(
    prefix: str, reuse: str | None = None, keep: bool = False
) -> Iterator[tuple[str, str, bool]]:
    """A database of the local cluster for one benchmark: a new `<prefix>_<hex>` (dropped on exit
    unless `keep`), or the kept one named `reuse` (left as it is). Yields (name, SQLAlchemy URL,
    whether it is new and must be loaded)."""
    name = reuse or f"{prefix}_{secrets.token_hex(3)}"
    if not reuse:
        asyncio.run(_admin_sql(f'CREATE DATABASE "{name}"'))
    url = make_url(BASE_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield name, url, not reuse
    finally:
        if keep or reuse:
            print(f"[keep] database {name}", flush=True)
        else:
            asyncio.run(_admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextlib.contextmanager
def bench_environment(
    names: list[str], extra_env: dict[str, str] | None = None
) -> Iterator[BenchEnvironment]:
    """Yields a running environment with the services `names`; tears it all down afterwards."""
    db_name = f"bench_{secrets.token_hex(4)}"
    prefix = f"b{secrets.token_hex(4)}."
    log_dir = Path(tempfile.mkdtemp(prefix="switchboard-bench-"))
    asyncio.run(_admin_sql(f'CREATE DATABASE "{db_name}"'))
    try:
        url = make_url(BASE_DATABASE_URL).set(database=db_name).render_as_string(hide_password=False)
        migrate_all(url)
        asyncio.run(seed_demo(url))
        env = {
            "DATABASE_URL": url,
            "KAFKA_BOOTSTRAP_SERVERS": KAFKA_BOOTSTRAP,
            "KAFKA_TOPIC_PREFIX": prefix,
            "KAFKA_PUBLISH_TIMEOUT_SECONDS": "3",
            # The services' default; routing and notifier run one consumer per partition of the
            # inbound-rate topics, so this is also how many messages each handles at once.
            "KAFKA_PARTITIONS": "3",
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "WARNING",
            "SHUTDOWN_GRACE_SECONDS": "5",
            **(extra_env or {}),
        }
        ports = free_ports_for(names)
        if "routing" in ports:
            # notifier asks routing's directory whether a stream's user is still active.
            env.setdefault("ROUTING_URL", f"http://127.0.0.1:{ports['routing']}")
        print(f"[env] database {db_name}, topic prefix {prefix!r}, logs {log_dir}", flush=True)
        services = start_services(env, log_dir, ports, names=names)
        try:
            yield BenchEnvironment(url, prefix, KAFKA_BOOTSTRAP, env, log_dir, services)
        finally:
            stop_services(services)
    finally:
        asyncio.run(_admin_sql(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        try:
            deleted = asyncio.run(_delete_prefixed_topics(KAFKA_BOOTSTRAP, prefix))
            print(f"[env] dropped {db_name}, deleted {deleted} topics with prefix {prefix!r}", flush=True)
        except Exception as exc:  # cleanup must not hide the benchmark's own outcome
            print(f"[env] dropped {db_name}; could not delete topics {prefix!r}*: {exc}", flush=True)


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc), 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, summed over its cores."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # without guest time, which is already counted in user
    tick = os.sysconf("SC_CLK_TCK")
    return (total - idle) / tick, total / tick


def print_cpu_per_process(used: dict[str, float], count: int, unit: str) -> None:
    """CpuMeter's figures, one line per group: core-seconds and milliseconds per `unit` over `count`
    of them, then what the rest of the machine did meanwhile (the cores are shared)."""
    print(
        f"  CPU                 machine busy {used['machine busy']:.1f} of {used['machine total']:.1f} "
        f"core-seconds; per process (core-s, ms per {unit}):"
    )
    accounted = 0.0
    for name, seconds in used.items():
        if not name.startswith("machine"):
            accounted += seconds
            print(f"    {name:<20} {seconds:6.1f}  {seconds * 1000 / max(1, count):5.2f}")
    print(f"    {'the rest':<20} {used['machine busy'] - accounted:6.1f}  (other work on the host)")


def pids_matching(fragment: str) -> list[int]:
    """Processes whose command line contains `fragment` (a PostgreSQL backend's title names its
    database, e.g. "postgres: switchboard bench_1a2b3c4d 127.0.0.1(5123) idle")."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if fragment in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


class CpuMeter:
    """CPU seconds each named group of processes (and the whole machine) used between start()
    and stop(): where the cores went during a run, since everything shares them. A group is a
    function giving its pids, asked at both ends (a process that appears in between, such as a
    new database connection, counts from zero; one that ends in between is not counted)."""

    def __init__(self, groups: dict[str, Callable[[], list[int]]]) -> None:
        self.groups = groups
        self._start: dict[str, dict[int, float]] = {}
        self._machine: tuple[float, float] = (0.0, 0.0)
        self.used: dict[str, float] = {}

    def start(self) -> None:
        self._start = {
            name: {pid: process_cpu_seconds(pid) for pid in pids()} for name, pids in self.groups.items()
        }
        self._machine = machine_cpu_seconds()

    def stop(self) -> dict[str, float]:
        self.used = {
            name: sum(process_cpu_seconds(pid) - self._start[name].get(pid, 0.0) for pid in pids())
            for name, pids in self.groups.items()
        }
        busy, total = machine_cpu_seconds()
        self.used["machine busy"] = busy - self._machine[0]
        self.used["machine total"] = total - self._machine[1]
        return self.used


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def latency_summary(latencies: list[float]) -> dict[str, float | None]:
    """p50/p95/p99/max of latencies (ms, in the order their texts were sent) and the p50 of the
    first and last tenth: growing between them = the pipeline is not keeping up."""
    if not latencies:
        keys = ("p50_ms", "p95_ms", "p99_ms", "max_ms", "first_tenth_p50_ms", "last_tenth_p50_ms")
        return dict.fromkeys(keys)
    tenth = max(1, len(latencies) // 10)
    return {
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
        "max_ms": max(latencies),
        "first_tenth_p50_ms": percentile(latencies[:tenth], 50),
        "last_tenth_p50_ms": percentile(latencies[-tenth:], 50),
    }


def start_server(script: str, name: str, env: dict[str, str], log_dir: Path) -> tuple[subprocess.Popen, str]:
    """Runs `bench/<script>` (a bare server to compare with) on a free port until its /readyz answers."""
    port = free_port()
    log = (log_dir / f"{name}.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / script)],
        env={**os.environ, **env, "HTTP_PORT": str(port), "SERVICE_NAME": name},
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{script} exited {process.returncode}; see {log_dir}/{name}.log")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise TimeoutError(f"{script} not ready")


async def sse_events(url: str, token: str) -> AsyncIterator[dict[str, str]]:
    """The server-sent events of `url` (a Bearer `token`), each as its fields (`event`, `data`,
    `id`), until the stream ends or the caller stops reading."""
    async with (
        httpx.AsyncClient(timeout=httpx.Timeout(10, read=None)) as client,
        client.stream("GET", url, headers={"authorization": f"Bearer {token}"}) as response,
    ):
        response.raise_for_status()
        fields: dict[str, str] = {}
        async for line in response.aiter_lines():
            if line == "":
                if fields:
                    yield fields
                fields = {}
            elif not line.startswith(":") and ":" in line:
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
